/**
 * <attachment-view>: the attachment of one message. A photo shows a box of its shape at once and
 * its decrypted thumbnail as soon as it is here (activating it emits `photo-open` for the
 * lightbox); a voice message is a <voice-player> that starts playing while it downloads; any
 * other file is an <attachment-chip> whose name saves it, decrypted in the browser.
 */
import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import type { AttachmentRef, MessageContent } from '../../crypto/content.ts';
import { safeFileName } from '../../media/format.ts';
import { IMAGE_MIMES } from '../../media/image-header.ts';
import type { VoiceSource } from '../../state/downloads.ts';
import { TransferController } from '../../state/transfer-controller.ts';
import { sharedStyles } from '../shared-styles.ts';
import './attachment-chip.ts';
import { PhotoOpenEvent, type AttachmentActionEvent } from './media-events.ts';
import './voice-player.ts';

type Attachment = Extract<MessageContent, { kind: 'attachment' }>;

/** Long side of a thumbnail in the bubble, CSS px. */
const THUMB_BOX_PX = 240;

/** What an attachment is shown as, from the type its (authenticated) message declares. */
/** Thumbnails are made at 320 px and ~20–40 KB; these bounds leave room and stop a decoding bomb. */
const THUMB_MAX_BYTES = 512 * 1024;
const THUMB_MAX_SIDE_PX = 1024;

/** What a thumbnail's own header may declare (the message's width and height are only the sender's word). */
export const THUMB_LIMITS = { maxSide: THUMB_MAX_SIDE_PX, maxPixels: THUMB_MAX_SIDE_PX * THUMB_MAX_SIDE_PX };

function smallThumbnail(t: AttachmentRef): boolean {
  return t.ciphertextBytes <= THUMB_MAX_BYTES && (t.width ?? 0) <= THUMB_MAX_SIDE_PX && (t.height ?? 0) <= THUMB_MAX_SIDE_PX;
}

export function attachmentShape(c: Attachment): 'photo' | 'voice' | 'file' {
  const type = c.file.mime.split(';')[0].trim().toLowerCase();
  // A thumbnail loads by itself as soon as the message shows: one that is not small is offered as a file instead.
  if (c.thumbnail && (IMAGE_MIMES as readonly string[]).includes(type) && smallThumbnail(c.thumbnail)) return 'photo';
  if (type.startsWith('audio/')) return 'voice';
  return 'file';
}

/** The name a file is saved under (the sender's name made safe, or one made from the type). */
export function saveName(ref: AttachmentRef): string {
  const named = ref.name ? safeFileName(ref.name) : '';
  if (named) return named;
  const sub = ref.mime.split(';')[0].split('/')[1]?.replace(/[^a-z0-9]/gi, '') || 'bin';
  return `${ref.mime.startsWith('image/') ? 'photo' : ref.mime.startsWith('audio/') ? 'voice-message' : 'file'}.${sub === 'jpeg' ? 'jpg' : sub}`;
}

@customElement('attachment-view')
export class AttachmentView extends LitElement {
  static styles = [
    sharedStyles,
    css`
      /* The bubble keeps a message's line breaks (pre-wrap); inside an attachment that would show the template's. */
      :host { display: block; white-space: normal; }
      button.photo { display: block; padding: 0; border: 0; border-radius: var(--chat-radius-medium); overflow: hidden; background: var(--chat-color-surface-raised); cursor: zoom-in; max-width: 100%; }
      button.photo img { display: block; width: 100%; height: 100%; object-fit: cover; }
      .photo-error { color: var(--chat-color-danger); font-size: var(--chat-font-size-small); display: flex; gap: var(--chat-space-2); align-items: center; }
      .caption { margin-top: var(--chat-space-1); white-space: pre-wrap; }
    `,
  ];

  @property({ attribute: false }) content: Attachment | undefined;
  /** Who sent it, for the accessible names ("Photo from alice"). */
  @property() author = '';
  @query('button.photo') private photoBox: HTMLButtonElement | undefined;

  private readonly transfers = new TransferController(this, { downloads: true });
  private voice: { blobId: string; source: VoiceSource } | undefined;

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.voice?.source.revoke();
    this.voice = undefined;
  }

  override render() {
    const c = this.content;
    const downloads = this.transfers.downloads;
    if (!c || !downloads) return nothing;
    const shape = attachmentShape(c);
    return html`${shape === 'photo' ? this.renderPhoto(c) : shape === 'voice' ? this.renderVoice(c) : this.renderFile(c)}
      ${c.caption ? html`<div class="caption">${c.caption}</div>` : nothing}`;
  }

  private renderPhoto(c: Attachment) {
    const thumb = c.thumbnail!;
    const entry = this.transfers.downloads!.image(thumb, THUMB_LIMITS);
    const alt = `Photo from ${this.author}`;
    if (entry.phase === 'failed') {
      return html`<div class="photo-error" role="note">${entry.error}
        <button type="button" @click=${() => this.transfers.downloads?.retryImage(thumb)}>Retry</button></div>`;
    }
    return html`<button type="button" class="photo" aria-label=${`Open photo from ${this.author}`} aria-busy=${entry.phase === 'loading' ? 'true' : 'false'}
      @click=${() => this.dispatchEvent(new PhotoOpenEvent(c.file.blobId))}>
      ${entry.image ? html`<img src=${entry.image.url} alt=${alt} />` : nothing}
    </button>`;
  }

  private renderVoice(c: Attachment) {
    if (this.voice?.blobId !== c.file.blobId || !this.voice.source.url) {
      this.voice?.source.revoke();
      this.voice = { blobId: c.file.blobId, source: this.transfers.downloads!.voice(c.file) };
    }
    return html`<voice-player .src=${this.voice.source.url} duration-ms=${c.file.durationMs ?? 0} .waveform=${c.file.waveform ?? []}
      label=${`Voice message from ${this.author}`}></voice-player>`;
  }

  private renderFile(c: Attachment) {
    const state = this.transfers.downloads!.fileState(c.file.blobId);
    const chipState = !state ? 'idle' : state.phase === 'loading' ? 'downloading' : state.phase === 'failed' ? 'failed' : 'done';
    return html`<attachment-chip attachment-id=${c.file.blobId} name=${saveName(c.file)} size=${c.file.plaintextBytes} mime=${c.file.mime}
      state=${chipState} progress=${state?.progress ?? -1} error=${state?.error ?? ''} @attachment-action=${this.onChip}></attachment-chip>`;
  }

  private onChip = (e: AttachmentActionEvent) => {
    const c = this.content;
    if (!c) return;
    if (e.action === 'cancel') this.transfers.downloads?.cancelSave(c.file.blobId);
    else void this.transfers.downloads?.save(c.file, saveName(c.file));
  };

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    const t = this.content?.thumbnail;
    if (this.photoBox && t?.placeholder) this.photoBox.style.backgroundColor = t.placeholder;
    if (this.photoBox && t?.width && t.height) {
      // Through the CSSOM (the CSP allows no inline styles): the box keeps the photo's shape before it loads.
      const scale = Math.min(1, THUMB_BOX_PX / Math.max(t.width, t.height));
      this.photoBox.style.width = `${Math.round(t.width * scale)}px`;
      this.photoBox.style.aspectRatio = `${t.width} / ${t.height}`;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'attachment-view': AttachmentView;
  }
}
