/**
 * Group commit for appendMessage: every append queued in one event-loop turn is written in one
 * transaction on setImmediate, and each promise settles only after that commit. Seqs come from
 * heads kept in memory (the server is the only process that appends), so no read sits on the hot path.
 */
import type Database from 'better-sqlite3';
import { ChatroomError } from '../../shared/errors.ts';
import type { MessageRecord } from '../types.ts';

/** Rows per transaction at most; a larger queue is split so one flush never blocks the loop for long. */
const MAX_BATCH_ROWS = 1000;

interface Pending {
  record: Omit<MessageRecord, 'seq'>;
  bodyBuffer: Buffer;
  resolve(m: MessageRecord): void;
  reject(err: unknown): void;
}

export interface GroupCommitStats {
  /** Transactions committed (or attempted) for appends. */
  transactions: number;
  /** Messages committed. */
  messages: number;
  /** The longest a batch's transaction held the event loop, ms (includes waiting on a lock). */
  maxCommitMs: number;
}

/** Queues appends and commits them in batches, assigning each conversation's next seq. */
export class GroupCommitter {
  private queue: Pending[] = [];
  private scheduled = false;
  /** While > 0, batches wait in the queue (the checkpointer is catching up with the WAL). */
  private pauses = 0;
  private readonly heads = new Map<string, number>();
  private readonly loadHead: Database.Statement<[string], { head: number }>;
  private readonly commit: (batch: Pending[], next: Map<string, number>) => MessageRecord[];
  readonly stats: GroupCommitStats = { transactions: 0, messages: 0, maxCommitMs: 0 };

  /** `onCommitted` runs after each committed batch. */
  constructor(
    db: Database.Database,
    private readonly onCommitted: () => void = () => {},
  ) {
    this.loadHead = db.prepare('SELECT head FROM conversations WHERE id = ?');
    const insert = db.prepare('INSERT INTO messages (conv_id, seq, sender_id, ts, body) VALUES (?, ?, ?, ?, ?)');
    const setHead = db.prepare('UPDATE conversations SET head = ? WHERE id = ?');
    const txn = db.transaction((batch: Pending[], next: Map<string, number>) => {
      const out: MessageRecord[] = [];
      for (const p of batch) {
        const seq = (next.get(p.record.convId) ?? this.heads.get(p.record.convId)!) + 1;
        next.set(p.record.convId, seq);
        insert.run(p.record.convId, seq, p.record.senderId, p.record.ts, p.bodyBuffer);
        out.push({ ...p.record, seq });
      }
      for (const [convId, head] of next) setHead.run(head, convId);
      return out;
    });
    this.commit = (batch, next) => txn.immediate(batch, next);
  }

  /** Queues one message; resolves with its seq once committed. */
  append(input: { convId: string; senderId: string; ts: number; body: Uint8Array }): Promise<MessageRecord> {
    return new Promise<MessageRecord>((resolve, reject) => {
      const { convId, senderId, body } = input;
      if (typeof convId !== 'string' || typeof senderId !== 'string' || !Number.isFinite(input.ts) || !(body instanceof Uint8Array)) {
        reject(new ChatroomError('BAD_REQUEST', 'appendMessage needs string ids, a finite ts (ms) and a Uint8Array body'));
        return;
      }
      // Whole milliseconds, as every other timestamp in the store.
      const ts = Math.trunc(input.ts);
      if (!this.heads.has(convId)) {
        const row = this.loadHead.get(convId);
        if (!row) {
          reject(new ChatroomError('NOT_FOUND'));
          return;
        }
        this.heads.set(convId, row.head);
      }
      // A view, not a copy: better-sqlite3 binds Buffers, and the body is never decoded.
      const bodyBuffer = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
      this.queue.push({ record: { convId, senderId, ts, body }, bodyBuffer, resolve, reject });
      this.schedule();
    });
  }

  /** Commits everything queued, synchronously (used by close). */
  flushAll(): void {
    while (this.queue.length > 0) this.flushOne();
  }

  /** Holds commits back (appends keep queueing); nests. */
  pause(): void {
    this.pauses++;
  }

  resume(): void {
    if (this.pauses > 0) this.pauses--;
    if (this.pauses === 0 && this.queue.length > 0) this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.pauses > 0) return;
      this.flushOne();
      if (this.queue.length > 0) this.schedule();
    });
  }

  private flushOne(): void {
    const batch = this.queue.length <= MAX_BATCH_ROWS ? this.queue : this.queue.slice(0, MAX_BATCH_ROWS);
    this.queue = batch === this.queue ? [] : this.queue.slice(MAX_BATCH_ROWS);
    if (batch.length === 0) return;
    const next = new Map<string, number>();
    let records: MessageRecord[];
    this.stats.transactions++;
    const started = performance.now();
    try {
      records = this.commit(batch, next);
    } catch (err) {
      // Rolled back: the in-memory heads stay where the database is.
      for (const p of batch) p.reject(err);
      return;
    }
    this.stats.maxCommitMs = Math.max(this.stats.maxCommitMs, performance.now() - started);
    for (const [convId, head] of next) this.heads.set(convId, head);
    this.stats.messages += batch.length;
    this.onCommitted();
    for (let i = 0; i < batch.length; i++) batch[i].resolve(records[i]);
  }
}
