/**
 * Shared behaviour of chatroom's modal dialogs: a native <dialog> (focus trap, Escape closes),
 * a busy flag, an error line, and a form whose submit runs `submit()`.
 */
import { LitElement, css, html, type TemplateResult } from 'lit';
import { query, state } from 'lit/decorators.js';
import { messageOf } from '../state/store.ts';
import { StoreController } from '../state/store-controller.ts';
import { sharedStyles } from './shared-styles.ts';

export abstract class DialogBase extends LitElement {
  static styles = [
    sharedStyles,
    css`
      dialog {
        width: min(var(--chat-dialog-width), calc(100vw - 2 * var(--chat-space-4)));
        background: var(--chat-color-surface);
        color: var(--chat-color-text);
        border: var(--chat-border-width) solid var(--chat-color-border);
        border-radius: var(--chat-radius-large);
        padding: var(--chat-space-5);
      }
      dialog::backdrop { background: var(--chat-color-overlay); }
      h2 { margin: 0 0 var(--chat-space-4); font-size: var(--chat-font-size-large); }
      .buttons { display: flex; justify-content: flex-end; gap: var(--chat-space-2); margin-top: var(--chat-space-4); }
      .row { display: flex; gap: var(--chat-space-2); }
      .intro { margin: 0 0 var(--chat-space-4); }
    `,
  ];

  @state() protected error = '';
  @state() protected busy = false;
  @query('dialog') protected dialog!: HTMLDialogElement;
  protected readonly chat = new StoreController(this);

  /** Dialog title; also its accessible name. */
  protected abstract get heading(): string;
  protected abstract body(): TemplateResult;
  /** Label of the confirm button. */
  protected abstract get confirmLabel(): string;
  /** Does the work; throw to show the error and stay open. */
  protected abstract submit(form: HTMLFormElement): Promise<void>;

  override render() {
    return html`
      <dialog aria-label=${this.heading} @close=${this.onClose}>
        <h2>${this.heading}</h2>
        <form novalidate @submit=${this.onSubmit}>
          ${this.body()}
          <p class="error" role="alert">${this.error}</p>
          <div class="buttons">
            <button type="button" @click=${() => this.close()}>${this.cancelLabel}</button>
            ${this.confirmLabel ? html`<button class="primary" type="submit" ?disabled=${this.busy}>${this.confirmLabel}</button>` : ''}
          </div>
        </form>
      </dialog>
    `;
  }

  protected get cancelLabel(): string {
    return 'Cancel';
  }

  /** Opens the dialog with a clean form and focuses its first field. */
  async show(): Promise<void> {
    await this.updateComplete;
    this.error = '';
    this.busy = false;
    this.dialog.querySelector('form')?.reset();
    if (!this.dialog.open) this.dialog.showModal();
    this.opened();
    (this.dialog.querySelector('input, textarea') as HTMLElement | null)?.focus();
  }

  close(): void {
    this.dialog?.close();
  }

  /** Runs after showModal; subclasses may start loading. */
  protected opened(): void {}

  private onClose(): void {
    this.dispatchEvent(new Event('closed'));
  }

  private async onSubmit(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    if (this.busy) return;
    this.error = '';
    this.busy = true;
    try {
      await this.submit(e.currentTarget as HTMLFormElement);
    } catch (err) {
      this.error = messageOf(err);
    } finally {
      this.busy = false;
    }
  }
}

/** The trimmed value of a named form field. */
export function field(form: HTMLFormElement, name: string): string {
  return ((form.elements.namedItem(name) as HTMLInputElement | null)?.value ?? '').trim();
}

/** A required one-line name field (servers, channels): `<label>` + `<input name="name">`. */
export function nameField(id: string, label: string) {
  return html`<div class="field">
    <label for=${id}>${label}</label>
    <input id=${id} name="name" maxlength="64" autocomplete="off" required />
  </div>`;
}

/** A required username field: `<label>Username</label>` + `<input name="username">`. */
export function usernameField(id: string) {
  return html`<div class="field">
    <label for=${id}>Username</label>
    <input id=${id} name="username" autocomplete="off" autocapitalize="off" spellcheck="false" required />
  </div>`;
}
