/** <message-bubble>: one message as an article — author, time, text; own messages on the right. */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { decodeBody } from '../content.ts';
import { linkify } from '../linkify.ts';
import { usernameColorIndex } from '../username-color.ts';
import { MessageActionEvent } from './events.ts';
import { sharedStyles } from './shared-styles.ts';

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });

@customElement('message-bubble')
export class MessageBubble extends LitElement {
  static styles = [
    sharedStyles,
    css`
      :host { display: block; }
      article {
        display: flex; flex-direction: column; align-items: flex-start;
        margin-top: var(--chat-space-3);
      }
      :host([continued]) article { margin-top: var(--chat-space-1); }
      :host([own]) article { align-items: flex-end; }
      header { display: flex; gap: var(--chat-space-2); align-items: baseline; padding: 0 var(--chat-space-2); margin-bottom: var(--chat-space-1); }
      .author { color: var(--chat-color-username); font-weight: 700; font-size: var(--chat-font-size-small); }
      .author.c1 { color: var(--chat-color-username-1, var(--chat-color-username)); }
      .author.c2 { color: var(--chat-color-username-2, var(--chat-color-username)); }
      .author.c3 { color: var(--chat-color-username-3, var(--chat-color-username)); }
      .author.c4 { color: var(--chat-color-username-4, var(--chat-color-username)); }
      .author.c5 { color: var(--chat-color-username-5, var(--chat-color-username)); }
      .author.c6 { color: var(--chat-color-username-6, var(--chat-color-username)); }
      time { color: var(--chat-color-text-muted); font-size: var(--chat-font-size-small); }
      .bubble {
        max-width: min(var(--chat-bubble-max-width), 85%);
        padding: var(--chat-space-2) var(--chat-space-3);
        border-radius: var(--chat-radius-bubble);
        background: var(--chat-color-bubble-other);
        color: var(--chat-color-bubble-other-text);
        white-space: pre-wrap; overflow-wrap: anywhere;
      }
      :host([own]) .bubble { background: var(--chat-color-bubble-own); color: var(--chat-color-bubble-own-text); }
      :host([own]) .bubble a { color: inherit; }
      :host([pending]) .bubble { opacity: 0.7; }
      .unsupported { font-style: italic; color: var(--chat-color-text-muted); }
      .failed { color: var(--chat-color-danger); font-size: var(--chat-font-size-small); display: flex; gap: var(--chat-space-2); align-items: center; }
      .failed button { font-size: var(--chat-font-size-small); padding: 0 var(--chat-space-2); }
    `,
  ];

  @property() author = '';
  /** base64 body (decoded by content.ts), or `text` for a message still being sent. */
  @property() body = '';
  @property() text: string | undefined;
  @property({ type: Number }) ts = 0;
  @property({ type: Boolean, reflect: true }) own = false;
  /** Same author as the previous message: the name is shown to screen readers only. */
  @property({ type: Boolean, reflect: true }) continued = false;
  @property({ type: Boolean, reflect: true }) pending = false;
  @property() error = '';

  override render() {
    const content = this.text !== undefined ? { type: 'text' as const, text: this.text } : decodeBody(this.body);
    const when = new Date(this.ts);
    return html`
      <article>
        <header class=${this.continued ? 'visually-hidden' : ''}>
          <span class="author c${usernameColorIndex(this.author)}">${this.author}</span>
          <time datetime=${when.toISOString()} title=${fullFormat.format(when)}>${timeFormat.format(when)}</time>
        </header>
        <div class="bubble">${content.type === 'text'
          ? linkify(content.text)
          : html`<span class="unsupported">This message cannot be shown by this version of chatroom.</span>`}</div>
        ${this.pending && !this.error ? html`<span class="visually-hidden">Sending…</span>` : nothing}
        ${this.error
          ? html`<div class="failed" role="alert">
              Not sent: ${this.error}
              <button type="button" @click=${() => this.dispatchEvent(new MessageActionEvent('retry'))}>Retry</button>
              <button type="button" @click=${() => this.dispatchEvent(new MessageActionEvent('discard'))}>Discard</button>
            </div>`
          : nothing}
      </article>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'message-bubble': MessageBubble;
  }
}
