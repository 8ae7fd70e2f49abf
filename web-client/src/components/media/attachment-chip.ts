/**
 * <attachment-chip>: a file in a message or the composer — type icon from the MIME family, name,
 * human-readable size, a progress bar while it uploads or downloads, and Cancel / Retry buttons.
 * It only emits `attachment-action` events; the transfer itself lives elsewhere.
 */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { formatBytes, mimeFamily, type MimeFamily } from '../../media/format.ts';
import { sharedStyles } from '../shared-styles.ts';
import { AttachmentActionEvent } from './media-events.ts';

/** Where the file's transfer is. */
export type AttachmentState = 'idle' | 'uploading' | 'downloading' | 'failed' | 'done';

const ICONS: Record<MimeFamily, string> = {
  image: '🖼️',
  audio: '🎵',
  video: '🎬',
  pdf: '📕',
  archive: '🗜️',
  text: '📄',
  document: '📝',
  other: '📎',
};

const FAMILY_NAMES: Record<MimeFamily, string> = {
  image: 'Image',
  audio: 'Audio',
  video: 'Video',
  pdf: 'PDF document',
  archive: 'Archive',
  text: 'Text file',
  document: 'Document',
  other: 'File',
};

@customElement('attachment-chip')
export class AttachmentChip extends LitElement {
  static styles = [
    sharedStyles,
    css`
      :host { display: inline-block; max-width: 100%; }
      .chip { display: grid; grid-template-columns: auto 1fr auto; align-items: center; gap: var(--chat-space-1) var(--chat-space-2); padding: var(--chat-space-2) var(--chat-space-3); border: var(--chat-border-width) solid var(--chat-color-border); border-radius: var(--chat-radius-medium); background: var(--chat-color-surface-raised); min-width: 14em; }
      .icon { font-size: var(--chat-font-size-large); line-height: 1; }
      .text { min-width: 0; display: flex; flex-direction: column; }
      .name { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
      button.name { text-align: left; border: 0; padding: 0; background: transparent; color: var(--chat-color-link); }
      .meta { color: var(--chat-color-text-muted); font-size: var(--chat-font-size-small); }
      .meta.failed { color: var(--chat-color-danger); }
      .actions { display: flex; gap: var(--chat-space-1); }
      .actions button { font-size: var(--chat-font-size-small); padding: 0 var(--chat-space-2); }
      progress { grid-column: 1 / -1; width: 100%; height: var(--chat-space-1); accent-color: var(--chat-color-accent); }
    `,
  ];

  /** Identifies the attachment in the events (e.g. the blob id or a local upload id). */
  @property({ attribute: 'attachment-id' }) attachmentId = '';
  @property() name = '';
  /** Plaintext size in bytes. */
  @property({ type: Number }) size = 0;
  @property() mime = 'application/octet-stream';
  @property({ reflect: true }) state: AttachmentState = 'idle';
  /** 0–1 while uploading or downloading; negative when unknown (an indeterminate bar). */
  @property({ type: Number }) progress = -1;
  /** Shown when `state` is "failed". */
  @property() error = '';
  /** A failed transfer can also be given up (Cancel next to Retry), e.g. an upload in the composer. */
  @property({ type: Boolean }) cancellable = false;

  render() {
    const family = mimeFamily(this.mime);
    const busy = this.state === 'uploading' || this.state === 'downloading';
    const what = this.state === 'uploading' ? 'Upload' : 'Download';
    const size = formatBytes(this.size);
    const meta = this.state === 'failed'
      ? `${size} · ${this.error || 'Transfer failed'}`
      : busy && this.progress >= 0
        ? `${formatBytes(this.size * Math.min(1, this.progress))} of ${size}`
        : size;
    return html`
      <div class="chip" role="group" aria-label=${`${FAMILY_NAMES[family]}: ${this.name}, ${size}`}>
        <span class="icon" aria-hidden="true">${ICONS[family]}</span>
        <span class="text">
          ${this.state === 'done' || this.state === 'idle'
            ? html`<button type="button" class="name" title=${this.name} @click=${() => this.emit('open')}>${this.name}</button>`
            : html`<span class="name" title=${this.name}>${this.name}</span>`}
          <span class="meta ${this.state === 'failed' ? 'failed' : ''}">${meta}</span>
        </span>
        <span class="actions">
          ${busy ? html`<button type="button" aria-label=${`Cancel ${what.toLowerCase()} of ${this.name}`} @click=${() => this.emit('cancel')}>Cancel</button>` : nothing}
          ${this.state === 'failed' ? html`<button type="button" aria-label=${`Retry ${this.name}`} @click=${() => this.emit('retry')}>Retry</button>` : nothing}
          ${this.state === 'failed' && this.cancellable ? html`<button type="button" aria-label=${`Cancel ${this.name}`} @click=${() => this.emit('cancel')}>Cancel</button>` : nothing}
        </span>
        ${busy
          ? this.progress >= 0
            ? html`<progress aria-label=${`${what} progress`} max="1" .value=${Math.min(1, this.progress)}></progress>`
            : html`<progress aria-label=${`${what} progress`}></progress>`
          : nothing}
      </div>
    `;
  }

  private emit(action: 'cancel' | 'retry' | 'open'): void {
    this.dispatchEvent(new AttachmentActionEvent(action, this.attachmentId));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'attachment-chip': AttachmentChip;
  }
}
