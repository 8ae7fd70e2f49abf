/** <composer-box>: the Message textarea (Enter sends, Shift+Enter adds a line) and the Send button. */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import { StoreController } from '../state/store-controller.ts';
import { sharedStyles } from './shared-styles.ts';

/** The textarea grows up to this many lines, then scrolls. */
const MAX_ROWS = 8;
/** The server's frame cap is 1 MB of base64; stay far below it, in characters. */
const MAX_CHARS = 16_000;

@customElement('composer-box')
export class ComposerBox extends LitElement {
  static styles = [
    sharedStyles,
    css`
      :host { display: block; }
      form { display: flex; gap: var(--chat-space-2); align-items: flex-end; padding: var(--chat-space-3) var(--chat-space-4); }
      textarea { resize: none; flex: 1; border-radius: var(--chat-radius-medium); }
      button { border-radius: var(--chat-radius-medium); padding: var(--chat-space-2) var(--chat-space-4); }
    `,
  ];

  @property() conv = '';
  @property() placeholder = '';
  @query('textarea') private box!: HTMLTextAreaElement;

  private readonly chat = new StoreController(this);

  override render() {
    if (!this.chat.store) return nothing;
    return html`
      <form @submit=${this.submit}>
        <textarea aria-label="Message" rows="1" maxlength=${MAX_CHARS} placeholder=${this.placeholder}
          enterkeyhint="send" @keydown=${this.keydown} @input=${this.input}></textarea>
        <button class="primary" type="submit">Send</button>
      </form>
    `;
  }

  /** Moves keyboard focus into the textbox (skip link, opening a conversation). */
  override focus(): void {
    this.box?.focus();
  }

  private keydown(e: KeyboardEvent): void {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      this.sendNow();
    }
  }

  private input(): void {
    this.resize();
    if (this.box.value) this.chat.store?.typing(this.conv);
  }

  private submit(e: SubmitEvent): void {
    e.preventDefault();
    this.sendNow();
    this.box.focus();
  }

  private sendNow(): void {
    const text = this.box.value;
    if (!text.trim() || !this.conv) return;
    this.chat.store?.send(this.conv, text);
    this.box.value = '';
    this.resize();
  }

  private resize(): void {
    const lines = this.box.value.split('\n').length;
    this.box.rows = Math.min(MAX_ROWS, Math.max(1, lines));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'composer-box': ComposerBox;
  }
}
