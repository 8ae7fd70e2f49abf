/**
 * The attachment (blob) rows of the Store. The bytes live in files under <dataPath>/blobs/
 * (src/server/blobs/); the database knows only an id, the conversation, the uploader, the size and
 * which message carries it: never a file name, type, dimensions or any other content metadata.
 *
 * Lifecycle: create (reserves `size` against the uploader's quota) → stored (the file is complete
 * and durable) → claimed by a send (`msgRef`, before the message commits) → attached (`msgSeq`,
 * after). An attached row is deleted by the database together with its message (foreign key
 * ON DELETE CASCADE), so every message delete path — retention included — takes its blobs along.
 */

export type BlobState = 'uploading' | 'stored';

export interface BlobRecord {
  id: string;
  convId: string;
  uploaderId: string;
  /** Ciphertext bytes, declared at creation. */
  size: number;
  state: BlobState;
  /** ms since the Unix epoch. */
  createdAt: number;
  storedAt: number | null;
  /** The `ref` of the send that claimed it (the message is (convId, uploaderId, ref)). */
  msgRef: string | null;
  /** The seq of the message it is attached to. */
  msgSeq: number | null;
}

export interface CreateBlobInput {
  convId: string;
  uploaderId: string;
  size: number;
  now: number;
  /** The uploader's quota, bytes: uploads in progress count with their declared size. */
  quotaBytes: number;
}

/** Why a claim was refused (the send answers BLOB_NOT_ATTACHABLE either way). */
export type ClaimResult = { ok: true } | { ok: false; blobId: string };

export interface SweepInput {
  /** Uploads still unfinished that were created before this are abandoned (ms since the epoch). */
  uploadingBefore: number;
  /** Stored blobs never attached to a message, stored (or claimed) before this, are orphans. */
  unattachedBefore: number;
}

export interface BlobStore {
  /**
   * Creates an upload and reserves its size against the uploader's quota in one transaction.
   * Throws ChatroomError UPLOAD_QUOTA_EXCEEDED (details: quotaBytes, usedBytes).
   */
  create(input: CreateBlobInput): Promise<BlobRecord>;
  get(id: string): Promise<BlobRecord | null>;
  /** Marks an upload stored once its file is durable; false when the row is gone or not uploading. */
  markStored(id: string, now: number): Promise<boolean>;
  /** Deletes the row (a cancelled or broken upload); true when there was one. */
  delete(id: string): Promise<boolean>;
  /** Bytes counted against the user's quota: stored blobs plus uploads in progress. */
  usedBytes(userId: string): Promise<number>;
  /**
   * Claims stored blobs for a send, before its message is appended: every id must be a stored blob
   * uploaded by `senderId` to `convId`, not claimed by another send. Claiming again with the same
   * ref (a resent frame) succeeds. All or nothing.
   */
  claim(input: { ids: readonly string[]; convId: string; senderId: string; ref: string; now: number }): Promise<ClaimResult>;
  /** Ties claimed blobs to their message once it is committed (idempotent). */
  attach(input: { ids: readonly string[]; convId: string; senderId: string; ref: string; seq: number }): Promise<void>;
  /**
   * Attaches claims whose message did commit (a crash between the commit and attach), then deletes
   * abandoned uploads and orphans; returns the ids of the deleted rows (their files go next).
   */
  sweep(input: SweepInput): Promise<string[]>;
  /** The subset of `ids` that are rows in state 'stored' (for the file sweep). */
  storedAmong(ids: readonly string[]): Promise<Set<string>>;
  /** The subset of `ids` that are rows in state 'uploading' (their temp files are kept). */
  uploadingAmong(ids: readonly string[]): Promise<Set<string>>;
  /**
   * Calls `listener` after messages were deleted (their blob rows went with them), so the owner of
   * the files can unlink them now. Returns a function that removes the listener.
   */
  onMessagesDeleted(listener: () => void): () => void;
  /** Called by the message delete paths of the store after they deleted messages. */
  noteMessagesDeleted(): void;
}
