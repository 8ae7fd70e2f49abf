/**
 * <photo-viewer>: the lightbox of one conversation. `show(blobId)` opens it at that photo with
 * every photo of the conversation (loaded messages, oldest first) for Previous / Next; each shows
 * its thumbnail until the full image is downloaded and decrypted (the shown one and its
 * neighbours are fetched).
 */
import { LitElement, css, html } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import type { AttachmentRef } from '../../crypto/content.ts';
import { TransferController } from '../../state/transfer-controller.ts';
import { attachmentShape, saveName, THUMB_LIMITS } from './attachment-view.ts';
import type { LightboxIndexEvent } from './media-events.ts';
import './photo-lightbox.ts';
import type { LightboxPhoto, PhotoLightbox } from './photo-lightbox.ts';

interface ConversationPhoto {
  full: AttachmentRef;
  thumb: AttachmentRef;
  author: string;
}

/** Full images fetched on each side of the shown one. */
const PREFETCH = 1;

@customElement('photo-viewer')
export class PhotoViewer extends LitElement {
  /** Takes no room in the message view: only its modal dialog shows. */
  static styles = css`:host { display: contents; }`;
  @property() conv = '';
  @state() private photos: ConversationPhoto[] = [];
  @state() private index = 0;
  @query('photo-lightbox') private lightbox!: PhotoLightbox;
  private readonly transfers = new TransferController(this, { downloads: true });

  /** Opens the lightbox at the photo whose full image is `blobId`. */
  async show(blobId: string): Promise<void> {
    this.photos = this.collect();
    this.index = Math.max(0, this.photos.findIndex((p) => p.full.blobId === blobId));
    await this.updateComplete;
    await this.lightbox.open(this.index);
  }

  override render() {
    const downloads = this.transfers.downloads;
    const shown: LightboxPhoto[] = this.photos.map((p, i) => {
      const near = Math.abs(i - this.index) <= PREFETCH;
      const full = near ? downloads?.image(p.full) : undefined;
      const src = full?.image?.url ?? downloads?.image(p.thumb, THUMB_LIMITS).image?.url ?? '';
      const photo: LightboxPhoto = { src, alt: `Photo from ${p.author}`, name: saveName(p.full) };
      if (full?.phase === 'loading') photo.progress = full.progress;
      return photo;
    });
    return html`<photo-lightbox .photos=${shown} .index=${this.index}
      @lightbox-index=${(e: LightboxIndexEvent) => (this.index = e.index)}
      @lightbox-closed=${() => (this.photos = [])}></photo-lightbox>`;
  }

  private collect(): ConversationPhoto[] {
    const store = this.transfers.store;
    if (!store) return [];
    const out: ConversationPhoto[] = [];
    for (const m of store.messagesOf(this.conv)) {
      const d = store.decodedOf(m.conv, m.seq);
      if (d?.ok && d.content.kind === 'attachment' && attachmentShape(d.content) === 'photo') {
        out.push({ full: d.content.file, thumb: d.content.thumbnail!, author: m.senderName });
      }
    }
    const me = store.session?.user.username ?? '';
    for (const p of store.pendingOf(this.conv)) {
      if (p.content.kind === 'attachment' && attachmentShape(p.content) === 'photo') out.push({ full: p.content.file, thumb: p.content.thumbnail!, author: me });
    }
    return out;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'photo-viewer': PhotoViewer;
  }
}
