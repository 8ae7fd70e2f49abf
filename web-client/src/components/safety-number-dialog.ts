/**
 * <safety-number-dialog>: the 60-digit safety number with one contact (12 groups of 5, the same on
 * both sides) and a QR code of it, to compare in person or over another channel. "Mark as verified"
 * records the comparison (the verified badge); after a key change, "Accept new key" unblocks
 * sending to that person.
 */
import { html, css, svg, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { create as createQr } from 'qrcode';
import type { SafetyView } from '../state/store.ts';
import { DialogBase } from './dialog-base.ts';

/** Asks <chat-app> to show the safety number with one contact (raised by the member list, DM header, key-change banner). */
export class SafetyNumberEvent extends Event {
  static readonly type = 'chat-safety-number';
  constructor(
    readonly userId: string,
    readonly username: string,
  ) {
    super(SafetyNumberEvent.type, { bubbles: true, composed: true });
  }
}

declare global {
  interface HTMLElementEventMap {
    'chat-safety-number': SafetyNumberEvent;
  }
}

/** Quiet zone around the QR code, in modules (the QR standard asks for 4). */
const QR_MARGIN = 4;

/** An SVG of `text` as a QR code, one path of unit squares (no inline styles, no data: URL). */
function qrImage(text: string) {
  const { modules } = createQr(text, { errorCorrectionLevel: 'M' });
  const n = modules.size;
  let d = '';
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < n; col++) if (modules.get(row, col)) d += `M${col + QR_MARGIN} ${row + QR_MARGIN}h1v1h-1z`;
  }
  const side = n + 2 * QR_MARGIN;
  return html`<svg class="qr" role="img" aria-label="QR code of the safety number" viewBox=${`0 0 ${side} ${side}`} shape-rendering="crispEdges">
    ${svg`<rect width=${side} height=${side} fill="#fff"></rect><path d=${d} fill="#000"></path>`}
  </svg>`;
}

@customElement('safety-number-dialog')
export class SafetyNumberDialog extends DialogBase {
  static override styles = [
    ...DialogBase.styles,
    css`
      .digits { font-family: var(--chat-font-mono); font-size: var(--chat-font-size-large); display: grid; grid-template-columns: repeat(4, auto); justify-content: center; gap: var(--chat-space-1) var(--chat-space-3); margin: 0 0 var(--chat-space-4); }
      .qr { display: block; width: 12rem; height: 12rem; margin: 0 auto var(--chat-space-4); }
      .changed { color: var(--chat-color-danger); font-weight: 600; }
      .verified { color: var(--chat-color-online); font-weight: 600; }
      details { margin-bottom: var(--chat-space-2); font-size: var(--chat-font-size-small); }
      code { overflow-wrap: anywhere; }
    `,
  ];

  @state() private userId = '';
  @state() private username = '';
  @state() private view: SafetyView | undefined;
  @state() private loading = false;

  /** Shows the safety number with `userId`. */
  async open(userId: string, username: string): Promise<void> {
    this.userId = userId;
    this.username = username;
    this.view = undefined;
    await this.show();
  }

  protected get heading() {
    return `Safety number with ${this.username}`;
  }

  protected override get cancelLabel() {
    return 'Close';
  }

  protected get confirmLabel() {
    const v = this.view;
    if (!v) return '';
    if (v.changed) return 'Accept new key';
    return v.verified ? '' : 'Mark as verified';
  }

  protected override opened(): void {
    void this.load();
  }

  private async load(): Promise<void> {
    const store = this.chat.store;
    if (!store) return;
    const userId = this.userId;
    this.loading = true;
    try {
      const view = await store.safetyNumberWith(userId);
      if (userId === this.userId) this.view = view;
    } catch (err) {
      if (userId === this.userId) this.error = err instanceof Error ? err.message : String(err);
    } finally {
      this.loading = false;
    }
  }

  protected body() {
    const v = this.view;
    if (!v) return html`<p class="status" role="status">${this.loading ? 'Computing the safety number…' : ''}</p>`;
    return html`
      ${v.changed
        ? html`<p class="intro changed" role="alert">${this.username}’s account key changed. This happens when they set up their keys again, or when someone (the server’s operator, for example) is trying to read along. Compare this new number with ${this.username} before accepting it; until then nothing is sent to them.</p>`
        : html`<p class="intro">Compare these numbers with ${this.username}, in person or over a call: if they match on both screens, nobody is reading along between you. You can also scan each other’s QR code.</p>`}
      <div class="digits" role="group" aria-label="Safety number" data-digits=${v.digits}>${v.groups.map((g) => html`<span>${g}</span>`)}</div>
      ${qrImage(v.qr)}
      <details><summary>QR code as text</summary><code>${v.qr}</code></details>
      ${v.verified ? html`<p class="verified" role="status">You verified ${this.username}.</p>` : nothing}
    `;
  }

  protected async submit(): Promise<void> {
    const store = this.chat.store;
    const v = this.view;
    if (!store || !v) return;
    try {
      if (v.changed) await store.acceptKeyChange(v.userId, v.theirKey);
      else await store.markVerified(v.userId, v.theirKey);
    } finally {
      // Whatever happened, show the number as it stands now (a newer key, if one arrived).
      this.view = await store.safetyNumberWith(v.userId);
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'safety-number-dialog': SafetyNumberDialog;
  }
}
