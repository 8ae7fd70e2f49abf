/** <invite-dialog>: creates a one-time invite link and shows it read-only with a copy button. */
import { html } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { messageOf } from '../state/store.ts';
import { DialogBase } from './dialog-base.ts';

const expiryFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

@customElement('invite-dialog')
export class InviteDialog extends DialogBase {
  @state() private url = '';
  @state() private expiresAt = 0;
  @state() private copied = '';

  protected get heading() {
    return 'Invite people';
  }
  protected get confirmLabel() {
    return '';
  }
  protected override get cancelLabel() {
    return 'Done';
  }
  protected body() {
    return html`
      <p class="hint intro">Anyone with this link can create one account. It works once.</p>
      ${this.url
        ? html`<div class="field">
            <label for="invite-link">Invite link</label>
            <div class="row">
              <input id="invite-link" readonly .value=${this.url}
                @focus=${(e: FocusEvent) => (e.target as HTMLInputElement).select()} />
              <button type="button" @click=${this.copy}>Copy</button>
            </div>
            ${this.expiresAt ? html`<p class="hint">Expires ${expiryFormat.format(this.expiresAt)}.</p>` : ''}
          </div>`
        : ''}
      <p class="status" role="status">${this.busy ? 'Creating link…' : this.copied}</p>
    `;
  }
  protected override opened(): void {
    this.url = '';
    this.copied = '';
    this.expiresAt = 0;
    this.busy = true;
    this.chat.store?.createInvite().then(
      (invite) => {
        this.url = invite.url;
        // Seconds or ms since the epoch: below 1e12 it can only be seconds.
        this.expiresAt = invite.expiresAt < 1e12 ? invite.expiresAt * 1000 : invite.expiresAt;
        this.busy = false;
        void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLInputElement>('#invite-link')?.focus());
      },
      (err) => {
        this.error = messageOf(err);
        this.busy = false;
      },
    );
  }
  protected async submit() {}

  private async copy(): Promise<void> {
    try {
      await navigator.clipboard.writeText(this.url);
      this.copied = 'Copied.';
    } catch {
      const input = this.renderRoot.querySelector('input');
      input?.select();
      this.copied = 'Select the link and copy it.';
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'invite-dialog': InviteDialog;
  }
}
