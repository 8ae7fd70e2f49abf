/**
 * Outgoing attachments: prepares a photo (EXIF stripped, thumbnail), a voice message or a file,
 * encrypts it once with a fresh key (file-chunks.ts), uploads the ciphertext in pieces with
 * progress, and ends with `store.sendContent` naming the uploaded blobs. A failed upload resumes
 * from the bytes the server holds, from the same ciphertext (no new encryption); Cancel and a
 * refusal (too large, quota, unsupported image) delete whatever was created on the server.
 */
import type { AttachmentRef, MessageContent } from '../crypto/content.ts';
import { toBase64 } from '../crypto/bytes.ts';
import { ciphertextSize, encryptBlob, newFileKey, type EncryptedSummary, type FileKey } from '../crypto/file-chunks.ts';
import { MediaError } from '../media/errors.ts';
import { formatBytes } from '../media/format.ts';
import { preparePhoto } from '../media/image.ts';
import type { VoiceRecording } from '../media/voice.ts';
import { ApiError } from './api.ts';
import { BlobApiError, PIECE_BYTES, TransferCancelled, blobLimits, createUpload, deleteUpload, putPiece, uploadState, type BlobLimits } from './blob-api.ts';
import { downloadsFor } from './downloads.ts';
import type { ChatStore } from './store.ts';

export type UploadKind = 'photo' | 'voice' | 'file';

/** One attachment on its way, as the composer shows it. */
export interface Upload {
  id: string;
  conv: string;
  kind: UploadKind;
  /** What the chip shows: the file name, "Photo" or "Voice message". */
  name: string;
  mime: string;
  /** Plaintext bytes of the chosen file or recording. */
  size: number;
  /** preparing: re-encoding and encrypting; failed: Retry resumes; refused: only Cancel (dismiss). */
  phase: 'preparing' | 'uploading' | 'failed' | 'refused';
  /** 0–1 of the ciphertext uploaded; -1 while preparing. */
  progress: number;
  error: string;
}

/** One encrypted blob of an upload (a photo has two: the image and its thumbnail). */
interface Part {
  plain: Blob;
  ciphertext: Blob;
  key: FileKey;
  summary: EncryptedSummary;
  meta: Omit<AttachmentRef, 'blobId' | 'key' | 'noncePrefix' | 'sha256' | 'ciphertextBytes' | 'plaintextBytes'>;
  blobId?: string;
  /** Ciphertext bytes the server holds. */
  sent: number;
}

interface Job {
  upload: Upload;
  source: Blob | VoiceRecording;
  parts?: { file: Part; thumbnail?: Part };
  abort?: AbortController;
  running: boolean;
}

/** Why the server refused, in the composer's words; undefined when a retry may work. */
function refusal(err: unknown, limits: BlobLimits | undefined): string | undefined {
  if (err instanceof MediaError) return err.message;
  if (!(err instanceof ApiError)) return undefined;
  if (err.status === 413) {
    const max = err instanceof BlobApiError && typeof err.details.maxBytes === 'number' ? err.details.maxBytes : limits?.maxUploadBytes;
    return tooLarge(max);
  }
  if (err.status === 507) return err.message;
  if (err.status === 404) return 'This conversation is no longer open to you: the attachment was not sent.';
  return undefined;
}

function tooLarge(maxCipherBytes: number | undefined): string {
  return maxCipherBytes
    ? `Too large: this server accepts attachments up to ${formatBytes(largestPlaintext(maxCipherBytes))}. Nothing was sent.`
    : 'Too large for this server. Nothing was sent.';
}

/** The largest plaintext whose ciphertext fits in `maxCipherBytes`. */
export function largestPlaintext(maxCipherBytes: number): number {
  let n = Math.max(0, maxCipherBytes - 16 * Math.ceil(maxCipherBytes / 65_552));
  while (n > 0 && ciphertextSize(n) > maxCipherBytes) n--;
  while (ciphertextSize(n + 1) <= maxCipherBytes) n++;
  return n;
}

function failure(err: unknown): string {
  if (err instanceof ApiError && err.status === 429) return 'Too many uploads right now: wait a moment, then Retry.';
  if (err instanceof ApiError) return err.message;
  return 'The upload failed. Retry, or Cancel.';
}

export class UploadManager extends EventTarget {
  private readonly jobs = new Map<string, Job>();
  private counter = 0;
  private limits: BlobLimits | undefined;
  /**
   * New attachments run one after another: messages go in the order the files were chosen, and
   * only one photo is decoded at a time (a 12-megapixel photo takes ~48 MB decoded).
   */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly store: ChatStore) {
    super();
    // Signing out ends every upload; the session is gone, so what the server holds of them is
    // left to its orphan sweep (24 h) and the plaintext and keys go with the jobs.
    let signedIn = store.session !== null;
    store.addEventListener('change', () => {
      if (signedIn && store.session === null) {
        for (const job of this.jobs.values()) job.abort?.abort();
        this.jobs.clear();
        this.changed();
      }
      signedIn = store.session !== null;
    });
  }

  /** The uploads of `conv`, oldest first. */
  of(conv: string): Upload[] {
    return [...this.jobs.values()].filter((j) => j.upload.conv === conv).map((j) => j.upload);
  }

  /** Photos: one attachment message per photo, in the order given. */
  addPhotos(conv: string, files: Blob[]): void {
    for (const f of files) this.start(conv, 'photo', f, 'Photo', f.type || 'image/jpeg', f.size);
  }

  addVoice(conv: string, recording: VoiceRecording): void {
    this.start(conv, 'voice', recording, 'Voice message', recording.mime, recording.blob.size);
  }

  /** Any files, each as an attachment with its name, size and type. */
  addFiles(conv: string, files: File[]): void {
    for (const f of files) this.start(conv, 'file', f, f.name || 'file', f.type || 'application/octet-stream', f.size);
  }

  /** Resumes a failed upload where the server's copy ends, with the ciphertext already made. */
  retry(id: string): void {
    const job = this.jobs.get(id);
    if (!job || job.running || job.upload.phase !== 'failed') return;
    void this.run(job);
  }

  /** Stops an upload and deletes what the server holds of it. */
  cancel(id: string): void {
    const job = this.jobs.get(id);
    if (!job) return;
    this.jobs.delete(id);
    job.abort?.abort();
    void this.discard(job);
    this.changed();
  }

  private start(conv: string, kind: UploadKind, source: Blob | VoiceRecording, name: string, mime: string, size: number): void {
    const id = `u${(this.counter++).toString(36)}`;
    const job: Job = { upload: { id, conv, kind, name, mime, size, phase: 'preparing', progress: -1, error: '' }, source, running: false };
    this.jobs.set(id, job);
    this.changed();
    this.queue = this.queue.then(() => (this.jobs.has(id) ? this.run(job) : undefined));
  }

  private async run(job: Job): Promise<void> {
    const u = job.upload;
    job.running = true;
    job.abort = new AbortController();
    u.error = '';
    try {
      this.limits = await blobLimits();
      if (!job.parts) {
        u.phase = 'preparing';
        this.changed();
        job.parts = await this.prepare(job);
        if (!this.jobs.has(u.id)) return;
      }
      const parts = [job.parts.thumbnail, job.parts.file].filter((p): p is Part => !!p);
      const total = parts.reduce((n, p) => n + p.summary.ciphertextBytes, 0);
      const tooBig = parts.find((p) => p.summary.ciphertextBytes > this.limits!.maxUploadBytes);
      if (tooBig) throw new ApiError(413, 'BLOB_TOO_LARGE', tooLarge(this.limits.maxUploadBytes));
      const unsent = parts.filter((p) => !p.blobId).reduce((n, p) => n + p.summary.ciphertextBytes, 0);
      if (this.limits.usedBytes + unsent > this.limits.quotaBytes) {
        throw new ApiError(507, 'UPLOAD_QUOTA_EXCEEDED', `Your attachment storage on this server is full (${formatBytes(this.limits.usedBytes)} of ${formatBytes(this.limits.quotaBytes)}): older attachments go with their messages, or ask the operator for more.`);
      }
      u.phase = 'uploading';
      const report = () => {
        u.progress = parts.reduce((n, p) => n + p.sent, 0) / total;
        this.changed();
      };
      report();
      for (const p of parts) await this.transfer(u.conv, p, job.abort.signal, report);
      if (!this.jobs.has(u.id)) return;
      this.send(job);
    } catch (err) {
      if (err instanceof TransferCancelled || !this.jobs.has(u.id)) return;
      const refused = refusal(err, this.limits);
      if (refused) {
        u.phase = 'refused';
        u.error = refused;
        // Nothing half-stored: whatever of this attachment the server took goes now.
        await this.discard(job);
        job.parts = undefined;
      } else {
        u.phase = 'failed';
        u.error = failure(err);
      }
      this.changed();
    } finally {
      job.running = false;
    }
  }

  /** Re-encodes (photos) and encrypts once; the ciphertext is kept for retries. */
  private async prepare(job: Job): Promise<{ file: Part; thumbnail?: Part }> {
    const u = job.upload;
    if (u.kind === 'photo') {
      const photo = await preparePhoto(job.source as Blob, { maxDimension: this.limits?.photoMaxDimension });
      const [file, thumbnail] = await Promise.all([
        encryptPart(photo.full, { mime: photo.mime, width: photo.width, height: photo.height }),
        encryptPart(photo.thumb, { mime: photo.mime, width: photo.thumbWidth, height: photo.thumbHeight, placeholder: photo.placeholder }),
      ]);
      return { file, thumbnail };
    }
    if (u.kind === 'voice') {
      const rec = job.source as VoiceRecording;
      return { file: await encryptPart(rec.blob, { mime: rec.mime, durationMs: Math.round(rec.durationMs), waveform: rec.waveform }) };
    }
    return { file: await encryptPart(job.source as Blob, { mime: u.mime, name: u.name }) };
  }

  /** Declares the blob once, then sends pieces from where the server's copy ends. */
  private async transfer(conv: string, p: Part, signal: AbortSignal, report: () => void): Promise<void> {
    const size = p.summary.ciphertextBytes;
    if (!p.blobId) {
      const id = (await createUpload(conv, size)).id;
      // Cancelled while the declaration was on its way: Cancel could not delete it yet.
      if (signal.aborted) {
        await deleteUpload(id).catch(() => {});
        throw new TransferCancelled();
      }
      p.blobId = id;
      p.sent = 0;
    } else if (p.sent < size) {
      const state = await uploadState(p.blobId);
      p.sent = state.complete ? size : state.received;
    }
    while (p.sent < size) {
      const from = p.sent;
      const piece = p.ciphertext.slice(from, Math.min(size, from + PIECE_BYTES));
      const answer = await putPiece(p.blobId, from, piece, (n) => {
        p.sent = from + n;
        report();
      }, signal);
      p.sent = answer.complete ? size : answer.received;
      report();
    }
  }

  private send(job: Job): void {
    const { file, thumbnail } = job.parts!;
    const downloads = downloadsFor(this.store);
    const content: MessageContent = { kind: 'attachment', file: refOf(file) };
    downloads.seed(content.file, file.plain);
    const blobIds = [file.blobId!];
    if (thumbnail) {
      content.thumbnail = refOf(thumbnail);
      downloads.seed(content.thumbnail, thumbnail.plain);
      blobIds.unshift(thumbnail.blobId!);
    }
    this.jobs.delete(job.upload.id);
    this.store.sendContent(job.upload.conv, content, blobIds);
    this.changed();
  }

  private async discard(job: Job): Promise<void> {
    const parts = job.parts ? [job.parts.file, job.parts.thumbnail] : [];
    for (const p of parts) {
      if (!p?.blobId) continue;
      const id = p.blobId;
      p.blobId = undefined;
      p.sent = 0;
      await deleteUpload(id).catch(() => {});
    }
  }

  private changed(): void {
    this.dispatchEvent(new Event('change'));
  }
}

async function encryptPart(plain: Blob, meta: Part['meta']): Promise<Part> {
  const key = newFileKey();
  const { ciphertext, summary } = await encryptBlob(plain, key);
  return { plain, ciphertext, key, summary, meta, sent: 0 };
}

function refOf(p: Part): AttachmentRef {
  return {
    blobId: p.blobId!,
    key: toBase64(p.key.key),
    noncePrefix: toBase64(p.key.noncePrefix),
    sha256: toBase64(p.summary.sha256),
    ciphertextBytes: p.summary.ciphertextBytes,
    plaintextBytes: p.summary.plaintextBytes,
    ...p.meta,
  };
}

const managers = new WeakMap<ChatStore, UploadManager>();

/** The upload manager of a signed-in app (one per store). */
export function uploadsFor(store: ChatStore): UploadManager {
  let m = managers.get(store);
  if (!m) managers.set(store, (m = new UploadManager(store)));
  return m;
}
