/**
 * <key-change-banner>: blocks the open conversation while a member's account key changed and the
 * change is not accepted: nothing is sent there until "Review" → "Accept new key". Also lists what
 * the end-to-end layer refused in this conversation (devices without a valid certificate, unusable
 * Welcomes or commits), so a misbehaving server is visible rather than silent.
 */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { StoreController } from '../state/store-controller.ts';
import { SafetyNumberEvent } from './safety-number-dialog.ts';
import { sharedStyles } from './shared-styles.ts';

@customElement('key-change-banner')
export class KeyChangeBanner extends LitElement {
  static styles = [
    sharedStyles,
    css`
      :host { display: block; }
      .changed, .warning {
        display: flex; gap: var(--chat-space-2); align-items: center; justify-content: space-between;
        margin: 0; padding: var(--chat-space-2) var(--chat-space-4);
        background: var(--chat-color-surface-raised); color: var(--chat-color-danger);
        border-bottom: var(--chat-border-width) solid var(--chat-color-border);
      }
      .warning { color: var(--chat-color-text-muted); font-size: var(--chat-font-size-small); }
      button { font-size: var(--chat-font-size-small); padding: var(--chat-space-1) var(--chat-space-2); }
    `,
  ];

  @property() conv = '';
  private readonly chat = new StoreController(this);

  override render() {
    const store = this.chat.store;
    if (!store || !this.conv) return nothing;
    const changes = store.keyChangesIn(this.conv);
    const warnings = store.warningsIn(this.conv);
    return html`
      ${changes.map(
        (c) => html`<p class="changed" role="alert">
          <span>${c.username}’s safety number changed. Nothing is sent in this conversation until you review the new one.</span>
          <button type="button" aria-label=${`Review ${c.username}’s new safety number`}
            @click=${() => this.dispatchEvent(new SafetyNumberEvent(c.userId, c.username))}>Review</button>
        </p>`,
      )}
      ${warnings.map((w) => html`<p class="warning" role="note">${w.message}</p>`)}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'key-change-banner': KeyChangeBanner;
  }
}
