/** <message-bubble>: one message as an article — author, time, content; own messages on the right. */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { DecodedBody } from '../state/body-codec.ts';
import { linkify } from '../linkify.ts';
import { usernameColorIndex } from '../username-color.ts';
import { MessageActionEvent } from './events.ts';
import './media/index.ts';
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
      .undecryptable { font-style: italic; color: var(--chat-color-danger); }
      .waiting { color: var(--chat-color-text-muted); font-size: var(--chat-font-size-small); }
      .failed { color: var(--chat-color-danger); font-size: var(--chat-font-size-small); display: flex; gap: var(--chat-space-2); align-items: center; }
      .failed button { font-size: var(--chat-font-size-small); padding: 0 var(--chat-space-2); }
    `,
  ];

  @property() author = '';
  /** What the body decoded to; undefined while it is being decrypted. */
  @property({ attribute: false }) decoded: DecodedBody | undefined;
  @property({ type: Number }) ts = 0;
  @property({ type: Boolean, reflect: true }) own = false;
  /** Same author as the previous message: the name is shown to screen readers only. */
  @property({ type: Boolean, reflect: true }) continued = false;
  @property({ type: Boolean, reflect: true }) pending = false;
  @property() error = '';
  /** A pending message waits for keys: why, in one sentence. */
  @property() waiting = '';

  override render() {
    const when = new Date(this.ts);
    return html`
      <article>
        <header class=${this.continued ? 'visually-hidden' : ''}>
          <span class="author c${usernameColorIndex(this.author)}">${this.author}</span>
          <time datetime=${when.toISOString()} title=${fullFormat.format(when)}>${timeFormat.format(when)}</time>
        </header>
        <div class="bubble">${this.renderContent()}</div>
        ${this.pending && !this.error && !this.waiting ? html`<span class="visually-hidden">Sending…</span>` : nothing}
        ${this.waiting && !this.error ? html`<div class="waiting" role="status">Not sent yet: ${this.waiting}</div>` : nothing}
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

  private renderContent() {
    const d = this.decoded;
    if (!d) return html`<span class="unsupported">Decrypting…</span>`;
    if (!d.ok) return html`<span class="undecryptable" role="note">Cannot decrypt this message: ${d.reason}</span>`;
    const c = d.content;
    switch (c.kind) {
      case 'text':
      case 'reply':
        return linkify(c.text);
      case 'attachment':
        return html`<attachment-view .content=${c} author=${this.author}></attachment-view>`;
      case 'unknown':
        return html`<span class="unsupported">This message was sent from a newer version of chatroom and cannot be shown here.</span>`;
      default:
        return html`<span class="unsupported">This message cannot be shown by this version of chatroom.</span>`;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'message-bubble': MessageBubble;
  }
}
