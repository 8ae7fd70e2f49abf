/**
 * <composer-box>: the Message textarea (Enter sends, Shift+Enter adds a line), the Send button, and
 * attachments — Attach photo, Attach file, paste and drag-and-drop, Record voice message — with
 * each upload's progress, Retry and Cancel, and the server's refusals in words.
 */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { StoreController } from '../state/store-controller.ts';
import { TransferController } from '../state/transfer-controller.ts';
import type { Upload } from '../state/uploads.ts';
import './media/index.ts';
import type { AttachmentActionEvent, VoiceRecordedEvent } from './media/media-events.ts';
import { sharedStyles } from './shared-styles.ts';

/** The textarea grows up to this many lines, then scrolls. */
const MAX_ROWS = 8;
/** The server's frame cap is 1 MB of base64; stay far below it, in characters. */
const MAX_CHARS = 16_000;

/** Files a browser can decode as a photo; anything else dropped or pasted goes as a file. */
const PHOTO_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif']);

@customElement('composer-box')
export class ComposerBox extends LitElement {
  static styles = [
    sharedStyles,
    css`
      :host { display: block; }
      .composer { padding: var(--chat-space-3) var(--chat-space-4); display: flex; flex-direction: column; gap: var(--chat-space-2); }
      .composer.dropping { outline: var(--chat-border-width) dashed var(--chat-color-accent); outline-offset: calc(-1 * var(--chat-space-1)); }
      form { display: flex; gap: var(--chat-space-2); align-items: flex-end; flex-wrap: wrap; }
      textarea { resize: none; flex: 1; min-width: 10em; border-radius: var(--chat-radius-medium); }
      button { border-radius: var(--chat-radius-medium); padding: var(--chat-space-2) var(--chat-space-4); }
      button.attach { padding: var(--chat-space-2) var(--chat-space-3); }
      .uploads { display: flex; flex-wrap: wrap; gap: var(--chat-space-2); }
      .refused { margin: 0; color: var(--chat-color-danger); display: flex; gap: var(--chat-space-2); align-items: center; }
      .refused button { font-size: var(--chat-font-size-small); padding: 0 var(--chat-space-2); }
      input[type='file'] { display: none; }
    `,
  ];

  @property() conv = '';
  @property() placeholder = '';
  @query('textarea') private box!: HTMLTextAreaElement;
  @query('#photo-input') private photoInput!: HTMLInputElement;
  @query('#file-input') private fileInput!: HTMLInputElement;
  @state() private dropping = false;

  private readonly chat = new StoreController(this);
  private readonly transfers = new TransferController(this, { uploads: true });

  override render() {
    if (!this.chat.store) return nothing;
    const uploads = this.transfers.uploads?.of(this.conv) ?? [];
    const refused = uploads.filter((u) => u.phase === 'refused');
    const moving = uploads.filter((u) => u.phase !== 'refused');
    return html`
      <div class="composer ${this.dropping ? 'dropping' : ''}" @dragover=${this.dragOver} @dragleave=${this.dragLeave} @drop=${this.drop}>
        ${refused.map((u) => html`<p class="refused" role="alert">${u.name}: ${u.error}
          <button type="button" aria-label=${`Dismiss the message about ${u.name}`} @click=${() => this.transfers.uploads?.cancel(u.id)}>Dismiss</button></p>`)}
        ${moving.length ? html`<div class="uploads" role="list" aria-label="Uploads" @attachment-action=${this.uploadAction}>
          ${moving.map((u) => html`<div role="listitem">${this.renderUpload(u)}</div>`)}</div>` : nothing}
        <form @submit=${this.submit}>
          <button type="button" class="attach" @click=${() => this.photoInput.click()}>Attach photo</button>
          <button type="button" class="attach" @click=${() => this.fileInput.click()}>Attach file</button>
          <input id="photo-input" type="file" accept="image/jpeg,image/png,image/webp,image/gif" multiple tabindex="-1" aria-hidden="true" @change=${this.photosChosen} />
          <input id="file-input" type="file" multiple tabindex="-1" aria-hidden="true" @change=${this.filesChosen} />
          <textarea aria-label="Message" rows="1" maxlength=${MAX_CHARS} placeholder=${this.placeholder}
            enterkeyhint="send" @keydown=${this.keydown} @input=${this.input} @paste=${this.paste}></textarea>
          <voice-recorder stop-label="Send voice message" @voice-recorded=${this.voiceRecorded}></voice-recorder>
          <button class="primary" type="submit">Send</button>
        </form>
      </div>
    `;
  }

  private renderUpload(u: Upload) {
    const failed = u.phase === 'failed';
    return html`<attachment-chip attachment-id=${u.id} name=${u.name} size=${u.size} mime=${u.mime}
      state=${failed ? 'failed' : 'uploading'} progress=${u.phase === 'preparing' ? -1 : u.progress} error=${u.error} ?cancellable=${failed}></attachment-chip>`;
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

  /** Photos go as photos (re-encoded, EXIF gone); anything else as a file with its name. */
  private attach(files: File[]): void {
    const uploads = this.transfers.uploads;
    if (!uploads || !this.conv || files.length === 0) return;
    const photos = files.filter((f) => PHOTO_TYPES.has(f.type));
    const others = files.filter((f) => !PHOTO_TYPES.has(f.type));
    if (photos.length) uploads.addPhotos(this.conv, photos);
    if (others.length) uploads.addFiles(this.conv, others);
  }

  private photosChosen = () => {
    const uploads = this.transfers.uploads;
    const files = [...(this.photoInput.files ?? [])];
    // Chosen with Attach photo: sent as photos whatever the browser calls their type.
    if (uploads && this.conv && files.length) uploads.addPhotos(this.conv, files);
    this.photoInput.value = '';
  };

  private filesChosen = () => {
    const uploads = this.transfers.uploads;
    const files = [...(this.fileInput.files ?? [])];
    if (uploads && this.conv && files.length) uploads.addFiles(this.conv, files);
    this.fileInput.value = '';
  };

  private paste = (e: ClipboardEvent) => {
    const files = [...(e.clipboardData?.files ?? [])];
    if (files.length === 0) return;
    e.preventDefault();
    this.attach(files);
  };

  private dragOver = (e: DragEvent) => {
    if (!e.dataTransfer?.types.includes('Files')) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    this.dropping = true;
  };

  private dragLeave = () => {
    this.dropping = false;
  };

  private drop = (e: DragEvent) => {
    this.dropping = false;
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length === 0) return;
    e.preventDefault();
    this.attach(files);
  };

  private voiceRecorded = (e: VoiceRecordedEvent) => {
    if (this.conv) this.transfers.uploads?.addVoice(this.conv, e.recording);
  };

  private uploadAction = (e: AttachmentActionEvent) => {
    if (e.action === 'retry') this.transfers.uploads?.retry(e.attachmentId);
    else if (e.action === 'cancel') this.transfers.uploads?.cancel(e.attachmentId);
  };
}

declare global {
  interface HTMLElementTagNameMap {
    'composer-box': ComposerBox;
  }
}
