/**
 * Received attachments: fetches a blob's ciphertext, decrypts it in the browser (file-chunks.ts,
 * checking size and SHA-256 against the message) and hands it out as what the UI needs — a checked
 * image URL (safeImageFromBytes), a voice message that plays while it downloads (MediaSource), or
 * a file saved under its name. Progress and failures are per blob id; `change` fires on each step.
 */
import type { AttachmentRef } from '../crypto/content.ts';
import { concat, fromBase64 } from '../crypto/bytes.ts';
import { decryptFile, type FileKey } from '../crypto/file-chunks.ts';
import { safeImageFromBytes, type SafeImage } from '../media/image.ts';
import type { DimensionLimits } from '../media/image-header.ts';
import { canStream, streamToMediaSource } from '../media/stream-playback.ts';
import { decryptAsItArrives } from '../media/stream-decrypt.ts';
import { downloadStream } from './blob-api.ts';

/** Where one blob's download is. */
export interface DownloadState {
  phase: 'loading' | 'done' | 'failed';
  /** 0–1 of the ciphertext received. */
  progress: number;
  /** One sentence, when failed. */
  error?: string;
}

/** A received image ready for an `img`. */
export interface ImageEntry extends DownloadState {
  image?: SafeImage;
}

/** A voice message's audio source; `revoke()` when its player leaves the page. */
export interface VoiceSource {
  url: string;
  revoke(): void;
}

/** Saved blob: URLs stay valid this long (ms): revoking at once can cancel Chromium's save. */
const SAVE_URL_LIFETIME_MS = 60_000;

/**
 * What decrypted content is cached under: the blob id *and* the key and hash the message gave.
 * Another member's message may name someone else's blob id with its own key and hash; keyed by
 * blob id alone, whichever loaded first would show for both.
 */
function contentKey(ref: AttachmentRef): string {
  return `${ref.blobId}/${ref.sha256}/${ref.key}`;
}

function fileKeyOf(ref: AttachmentRef): FileKey {
  return { key: fromBase64(ref.key), noncePrefix: fromBase64(ref.noncePrefix) };
}

function explain(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && ['corrupt', 'truncated', 'trailing_data', 'hash_mismatch', 'size_mismatch', 'bad_key'].includes(code)) {
    return 'This attachment was altered or damaged and is not shown.';
  }
  if (err instanceof Error && err.name === 'MediaError') return err.message;
  if (err instanceof Error && err.name === 'ApiError') return (err as Error & { status: number }).status === 404 ? 'This attachment is no longer on the server.' : err.message;
  return 'The attachment could not be downloaded. Try again.';
}

export class DownloadManager extends EventTarget {
  private readonly images = new Map<string, ImageEntry>();
  private readonly files = new Map<string, DownloadState>();
  /** Plaintext this browser sent itself (no need to download its own uploads again). */
  private readonly local = new Map<string, Blob>();
  /** Whole voice messages once streamed, so a player shown again needs no new download. */
  private readonly voices = new Map<string, Blob>();
  private readonly collecting = new Set<string>();
  private readonly saving = new Map<string, AbortController>();

  /**
   * Drops every decrypted attachment (sign-out: the next person at this browser must not find the
   * last one's photos in memory). Players and images already on the page keep what they show.
   */
  clear(): void {
    for (const entry of this.images.values()) entry.image?.revoke();
    for (const abort of this.saving.values()) abort.abort();
    this.images.clear();
    this.files.clear();
    this.local.clear();
    this.voices.clear();
    this.saving.clear();
    this.changed();
  }

  /** Remembers the plaintext of an own upload, for the message that names it. */
  seed(ref: AttachmentRef, plain: Blob): void {
    this.local.set(contentKey(ref), plain);
  }

  /**
   * The image of `ref` (a thumbnail or full photo); starts the download the first time. `limits`
   * bound what its header may declare before it is decoded (thumbnails get tight ones).
   */
  image(ref: AttachmentRef, limits?: DimensionLimits): ImageEntry {
    let entry = this.images.get(contentKey(ref));
    if (entry) return entry;
    entry = { phase: 'loading', progress: 0 };
    this.images.set(contentKey(ref), entry);
    void this.loadImage(ref, entry, limits);
    return entry;
  }

  /** Loads an image again after a failure. */
  retryImage(ref: AttachmentRef): void {
    const entry = this.images.get(contentKey(ref));
    if (entry?.phase === 'failed') this.images.delete(contentKey(ref));
    this.image(ref);
    this.changed();
  }

  /** The state of a file being saved, if one was asked for. */
  fileState(blobId: string): DownloadState | undefined {
    return this.files.get(blobId);
  }

  /**
   * Downloads and decrypts a file, then saves it as `name` through a blob: URL typed
   * application/octet-stream (a file is saved, never rendered in the page).
   */
  async save(ref: AttachmentRef, name: string): Promise<void> {
    const state: DownloadState = { phase: 'loading', progress: 0 };
    const abort = new AbortController();
    this.saving.get(ref.blobId)?.abort();
    this.saving.set(ref.blobId, abort);
    this.files.set(ref.blobId, state);
    this.changed();
    try {
      const parts = await this.collect(ref, (p) => {
        state.progress = p;
        this.changed();
      }, abort.signal);
      const url = URL.createObjectURL(new Blob(parts as BlobPart[], { type: 'application/octet-stream' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = name;
      a.rel = 'noopener';
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), SAVE_URL_LIFETIME_MS);
      state.phase = 'done';
      state.progress = 1;
    } catch (err) {
      if (abort.signal.aborted) this.files.delete(ref.blobId);
      else {
        state.phase = 'failed';
        state.error = explain(err);
      }
    } finally {
      if (this.saving.get(ref.blobId) === abort) this.saving.delete(ref.blobId);
    }
    this.changed();
  }

  /** Stops saving a file (the chip goes back to its name). */
  cancelSave(blobId: string): void {
    this.saving.get(blobId)?.abort();
  }

  /**
   * A source for a voice player: the object URL of a MediaSource fed as chunks are decrypted
   * (playback starts with the first 64 KiB), or a blob: URL once the whole file is here.
   */
  voice(ref: AttachmentRef): VoiceSource {
    const whole = this.local.get(contentKey(ref)) ?? this.voices.get(contentKey(ref));
    if (whole || !canStream(ref.mime)) {
      const url = whole ? URL.createObjectURL(new Blob([whole], { type: ref.mime })) : '';
      if (!whole) void this.collectVoice(ref);
      return { url, revoke: () => url && URL.revokeObjectURL(url) };
    }
    const kept: Uint8Array[] = [];
    const chunks = this.streamPlain(ref, () => {}, undefined, true);
    const keep = async function* () {
      for await (const c of chunks) {
        kept.push(c);
        yield c;
      }
    };
    const media = streamToMediaSource(keep(), ref.mime);
    media.done.then(() => this.voices.set(contentKey(ref), new Blob(kept as BlobPart[], { type: ref.mime })), () => {});
    return { url: media.url, revoke: () => media.revoke() };
  }

  /** Where no MediaSource takes the type: download all of it, then a change gives the URL. */
  private async collectVoice(ref: AttachmentRef): Promise<void> {
    if (this.collecting.has(contentKey(ref))) return;
    this.collecting.add(contentKey(ref));
    try {
      const parts = await this.collect(ref, () => {});
      this.voices.set(contentKey(ref), new Blob(parts as BlobPart[], { type: ref.mime }));
      this.changed();
    } catch {
      // The player shows "cannot be played" for an empty source.
    } finally {
      this.collecting.delete(contentKey(ref));
    }
  }

  private async loadImage(ref: AttachmentRef, entry: ImageEntry, limits?: DimensionLimits): Promise<void> {
    try {
      const parts = await this.collect(ref, (p) => {
        entry.progress = p;
        this.changed();
      });
      const bytes = concat(...parts);
      entry.image = safeImageFromBytes(bytes, ref.mime, limits);
      entry.phase = 'done';
      entry.progress = 1;
    } catch (err) {
      entry.phase = 'failed';
      entry.error = explain(err);
    }
    this.changed();
  }

  private async collect(ref: AttachmentRef, onProgress: (fraction: number) => void, signal?: AbortSignal): Promise<Uint8Array[]> {
    const parts: Uint8Array[] = [];
    for await (const c of this.streamPlain(ref, onProgress, signal)) parts.push(c);
    return parts;
  }

  /**
   * Authenticated plaintext chunks of `ref`: from the local copy, or downloaded and decrypted.
   * `asItArrives`: each chunk as soon as it is here (playback), not four at a time (throughput).
   */
  private async *streamPlain(ref: AttachmentRef, onProgress: (fraction: number) => void, signal?: AbortSignal, asItArrives = false): AsyncGenerator<Uint8Array> {
    const local = this.local.get(contentKey(ref));
    if (local) {
      yield new Uint8Array(await local.arrayBuffer());
      onProgress(1);
      return;
    }
    const total = Math.max(1, ref.ciphertextBytes);
    const stream = await downloadStream(ref.blobId, (received) => onProgress(Math.min(1, received / total)), signal);
    const expect = { sha256: fromBase64(ref.sha256), ciphertextBytes: ref.ciphertextBytes };
    yield* asItArrives ? decryptAsItArrives(stream, fileKeyOf(ref), expect) : decryptFile(stream, fileKeyOf(ref), expect);
  }

  private changed(): void {
    this.dispatchEvent(new Event('change'));
  }
}

const managers = new WeakMap<object, DownloadManager>();

/** The download manager of a signed-in app (one per store); emptied when the session ends. */
export function downloadsFor(store: EventTarget & { session: unknown }): DownloadManager {
  let m = managers.get(store);
  if (!m) {
    const manager = (m = new DownloadManager());
    managers.set(store, manager);
    let signedIn = store.session !== null;
    store.addEventListener('change', () => {
      if (signedIn && store.session === null) manager.clear();
      signedIn = store.session !== null;
    });
  }
  return m;
}
