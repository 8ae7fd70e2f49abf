/** The SQLite BlobStore: attachment rows on the store's connection (schema: migrations/004-blobs.ts). */
import type Database from 'better-sqlite3';
import { ChatroomError } from '../../shared/errors.ts';
import type { BlobRecord, BlobState, BlobStore, ClaimResult, CreateBlobInput, SweepInput } from '../blob-types.ts';
import { newId } from './ids.ts';
import { statementCache, type StatementCache } from './statements.ts';

interface BlobRow {
  id: string;
  conv_id: string;
  uploader_id: string;
  size: number;
  state: BlobState;
  created_at: number;
  stored_at: number | null;
  msg_ref: string | null;
  msg_seq: number | null;
}

const cols = 'id, conv_id, uploader_id, size, state, created_at, stored_at, msg_ref, msg_seq';

function toBlob(r: BlobRow): BlobRecord {
  return {
    id: r.id,
    convId: r.conv_id,
    uploaderId: r.uploader_id,
    size: r.size,
    state: r.state,
    createdAt: r.created_at,
    storedAt: r.stored_at,
    msgRef: r.msg_ref,
    msgSeq: r.msg_seq,
  };
}

/** Rows deleted per sweep statement; the sweep yields to the event loop between batches. */
const SWEEP_BATCH = 500;

export class SqliteBlobStore implements BlobStore {
  private readonly listeners = new Set<() => void>();

  /** Statements prepared once per SQL text. */
  private readonly q: StatementCache;

  constructor(private readonly db: Database.Database) {
    this.q = statementCache(db);
  }


  async create(input: CreateBlobInput): Promise<BlobRecord> {
    const record: BlobRecord = {
      id: newId(),
      convId: input.convId,
      uploaderId: input.uploaderId,
      size: input.size,
      state: 'uploading',
      createdAt: input.now,
      storedAt: null,
      msgRef: null,
      msgSeq: null,
    };
    this.db.transaction(() => {
      const used = this.used(input.uploaderId);
      if (used + input.size > input.quotaBytes) {
        throw new ChatroomError('UPLOAD_QUOTA_EXCEEDED', undefined, { quotaBytes: input.quotaBytes, usedBytes: used });
      }
      try {
        this.q("INSERT INTO blobs (id, conv_id, uploader_id, size, state, created_at) VALUES (?, ?, ?, ?, 'uploading', ?)").run(
          record.id,
          record.convId,
          record.uploaderId,
          record.size,
          record.createdAt,
        );
      } catch (err) {
        if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw new ChatroomError('NOT_FOUND');
        throw err;
      }
    }).immediate();
    return record;
  }

  private used(userId: string): number {
    return this.q<{ n: number }>('SELECT coalesce(sum(size), 0) AS n FROM blobs WHERE uploader_id = ?').get(userId)!.n;
  }

  async get(id: string): Promise<BlobRecord | null> {
    const r = this.q<BlobRow>(`SELECT ${cols} FROM blobs WHERE id = ?`).get(id);
    return r ? toBlob(r) : null;
  }

  async markStored(id: string, now: number): Promise<boolean> {
    return this.q("UPDATE blobs SET state = 'stored', stored_at = ? WHERE id = ? AND state = 'uploading'").run(now, id).changes === 1;
  }

  async delete(id: string): Promise<boolean> {
    return this.q('DELETE FROM blobs WHERE id = ?').run(id).changes === 1;
  }

  async usedBytes(userId: string): Promise<number> {
    return this.used(userId);
  }

  async claim(input: { ids: readonly string[]; convId: string; senderId: string; ref: string; now: number }): Promise<ClaimResult> {
    return this.db.transaction((): ClaimResult => {
      const get = this.q<BlobRow>(`SELECT ${cols} FROM blobs WHERE id = ?`);
      for (const id of input.ids) {
        const r = get.get(id);
        const ok =
          r !== undefined &&
          r.state === 'stored' &&
          r.conv_id === input.convId &&
          r.uploader_id === input.senderId &&
          (r.msg_ref === null || r.msg_ref === input.ref);
        if (!ok) return { ok: false, blobId: id };
      }
      const set = this.q('UPDATE blobs SET msg_ref = ?, claimed_at = ? WHERE id = ? AND msg_ref IS NULL');
      for (const id of input.ids) set.run(input.ref, input.now, id);
      return { ok: true };
    }).immediate();
  }

  async attach(input: { ids: readonly string[]; convId: string; senderId: string; ref: string; seq: number }): Promise<void> {
    this.db.transaction(() => {
      const set = this.q('UPDATE blobs SET msg_seq = ? WHERE id = ? AND conv_id = ? AND uploader_id = ? AND msg_ref = ? AND msg_seq IS NULL');
      for (const id of input.ids) set.run(input.seq, id, input.convId, input.senderId, input.ref);
    }).immediate();
  }

  async sweep(input: SweepInput): Promise<string[]> {
    // A claim whose message committed but whose attach never ran (the process died in between).
    this.q(
      `UPDATE blobs SET msg_seq = (
         SELECT m.seq FROM messages m WHERE m.conv_id = blobs.conv_id AND m.sender_id = blobs.uploader_id AND m.client_ref = blobs.msg_ref)
       WHERE msg_seq IS NULL AND msg_ref IS NOT NULL AND EXISTS (
         SELECT 1 FROM messages m WHERE m.conv_id = blobs.conv_id AND m.sender_id = blobs.uploader_id AND m.client_ref = blobs.msg_ref)`,
    ).run();
    const del = this.q<{ id: string }>(
      `DELETE FROM blobs WHERE rowid IN (
         SELECT rowid FROM blobs WHERE msg_seq IS NULL AND (
           (state = 'uploading' AND created_at < ?) OR
           (state = 'stored' AND coalesce(claimed_at, stored_at) < ?))
         LIMIT ?)
       RETURNING id`,
    );
    const deleted: string[] = [];
    for (;;) {
      const rows = del.all(input.uploadingBefore, input.unattachedBefore, SWEEP_BATCH);
      for (const r of rows) deleted.push(r.id);
      if (rows.length < SWEEP_BATCH) break;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return deleted;
  }

  async storedAmong(ids: readonly string[]): Promise<Set<string>> {
    return this.among(ids, 'stored');
  }

  async uploadingAmong(ids: readonly string[]): Promise<Set<string>> {
    return this.among(ids, 'uploading');
  }

  private among(ids: readonly string[], state: BlobState): Set<string> {
    if (ids.length === 0) return new Set();
    const rows = this.q<{ id: string }>('SELECT id FROM blobs WHERE state = ? AND id IN (SELECT value FROM json_each(?))').all(state, JSON.stringify(ids));
    return new Set(rows.map((r) => r.id));
  }

  onMessagesDeleted(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  noteMessagesDeleted(): void {
    for (const l of this.listeners) {
      try {
        l();
      } catch {
        // A listener's failure must not fail the purge that called it.
      }
    }
  }
}
