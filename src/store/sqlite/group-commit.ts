/**
 * Group commit for appendMessage and setLastRead: what is queued within a short coalescing window
 * (COALESCE_MS after the first entry, or at once from COALESCE_ROWS entries) is written in one
 * transaction, and each promise settles only after that commit. Under synchronous=FULL each commit
 * costs an fsync; at 1,000 msg/s a per-turn flush commits about one message per transaction.
 * Seqs come from heads kept in memory (the server is the only process that appends), so no read
 * sits on the hot path except the ref lookup of a send that carries one (one index probe).
 */
import type Database from 'better-sqlite3';
import { ChatroomError } from '../../shared/errors.ts';
import type { AppendInput, AppendedMessage, MessageRecord } from '../types.ts';

/** Rows per transaction at most; a larger queue is split so one flush never blocks the loop for long. */
const MAX_BATCH_ROWS = 1000;
/** How long the first queued entry waits for others to share its transaction, ms (quick bench: 2 ms → ~3.4 messages per commit, 4 ms → ~6). */
export const COALESCE_MS = 4;
/** Queued entries that start a commit at the next turn without waiting out the window. */
export const COALESCE_ROWS = 64;

export interface GroupCommitOptions {
  /** COALESCE_MS unless given; 0 commits on the next turn (setImmediate). */
  coalesceMs?: number;
  /** COALESCE_ROWS unless given. */
  coalesceRows?: number;
}

interface PendingAppend {
  record: Omit<MessageRecord, 'seq'>;
  bodyBuffer: Buffer;
  ref: string | null;
  senderHasRead: boolean;
  resolve(m: AppendedMessage): void;
  reject(err: unknown): void;
}

/** One (user, conversation) read position, coalesced over a turn: the highest seq wins. */
interface PendingRead {
  userId: string;
  convId: string;
  seq: number;
  /** Callers of setLastRead waiting for the commit (none for a sender's own position). */
  waiters: Array<{ resolve(): void; reject(err: unknown): void }> | null;
}

export interface GroupCommitStats {
  /** Transactions committed (or attempted) for appends and read positions. */
  transactions: number;
  /** Messages committed (repeats of a known ref are not counted). */
  messages: number;
  /** Read positions written. */
  readPositions: number;
  /** The longest a batch's transaction held the event loop, ms (includes waiting on a lock). */
  maxCommitMs: number;
}

interface RefRow {
  seq: number;
  ts: number;
  body: Buffer;
}

function readKey(userId: string, convId: string): string {
  return `${userId}\n${convId}`;
}

function isForeignKeyViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

/** Queues appends and read positions and commits them in batches, assigning each conversation's next seq. */
export class GroupCommitter {
  private queue: PendingAppend[] = [];
  private reads = new Map<string, PendingRead>();
  private scheduled = false;
  /** The coalescing timer, while the window of the oldest queued entry is open. */
  private windowTimer: NodeJS.Timeout | null = null;
  private readonly coalesceMs: number;
  private readonly coalesceRows: number;
  /** While > 0, batches wait in the queue (the checkpointer is catching up with the WAL). */
  private pauses = 0;
  private readonly heads = new Map<string, number>();
  private readonly loadHead: Database.Statement<[string], { head: number }>;
  private readonly commit: (batch: PendingAppend[], reads: Map<string, PendingRead>, next: Map<string, number>) => {
    records: AppendedMessage[];
    readErrors: Map<PendingRead, unknown> | null;
  };
  readonly stats: GroupCommitStats = { transactions: 0, messages: 0, readPositions: 0, maxCommitMs: 0 };

  /** `onCommitted` runs after each committed batch. */
  constructor(
    db: Database.Database,
    private readonly onCommitted: () => void = () => {},
    options: GroupCommitOptions = {},
  ) {
    this.coalesceMs = options.coalesceMs ?? COALESCE_MS;
    this.coalesceRows = options.coalesceRows ?? COALESCE_ROWS;
    this.loadHead = db.prepare('SELECT head FROM conversations WHERE id = ?');
    const insert = db.prepare('INSERT INTO messages (conv_id, seq, sender_id, ts, body, client_ref) VALUES (?, ?, ?, ?, ?, ?)');
    const findRef = db.prepare<[string, string, string], RefRow>(
      'SELECT seq, ts, body FROM messages WHERE conv_id = ? AND sender_id = ? AND client_ref = ?',
    );
    const setHead = db.prepare('UPDATE conversations SET head = ? WHERE id = ?');
    // Never moves back: a slower device reporting an older position must not resurrect unread counts.
    const setRead = db.prepare(
      `INSERT INTO read_state (user_id, conv_id, last_read_seq) VALUES (?, ?, ?)
       ON CONFLICT (user_id, conv_id) DO UPDATE SET last_read_seq = max(last_read_seq, excluded.last_read_seq)`,
    );
    const txn = db.transaction((batch: PendingAppend[], reads: Map<string, PendingRead>, next: Map<string, number>) => {
      const records: AppendedMessage[] = [];
      for (const p of batch) {
        const { convId, senderId } = p.record;
        if (p.ref !== null) {
          // Inside the transaction, so a repeat queued in this same batch finds the first one too.
          const known = findRef.get(convId, senderId, p.ref);
          if (known) {
            records.push({ convId, senderId, seq: known.seq, ts: known.ts, body: new Uint8Array(known.body), duplicate: true });
            continue;
          }
        }
        const seq = (next.get(convId) ?? this.heads.get(convId)!) + 1;
        next.set(convId, seq);
        insert.run(convId, seq, senderId, p.record.ts, p.bodyBuffer, p.ref);
        records.push({ ...p.record, seq });
        if (p.senderHasRead) mergeRead(reads, senderId, convId, seq);
      }
      for (const [convId, head] of next) setHead.run(head, convId);
      let readErrors: Map<PendingRead, unknown> | null = null;
      for (const r of reads.values()) {
        try {
          setRead.run(r.userId, r.convId, r.seq);
        } catch (err) {
          // Only this statement is undone: an unknown user or conversation must not cost the batch.
          if (!isForeignKeyViolation(err)) throw err;
          (readErrors ??= new Map()).set(r, new ChatroomError('NOT_FOUND', 'No such user or conversation.'));
        }
      }
      return { records, readErrors };
    });
    this.commit = (batch, reads, next) => txn.immediate(batch, reads, next);
  }

  /** Queues one message; resolves with its seq once committed (or with the original for a known ref). */
  append(input: AppendInput): Promise<AppendedMessage> {
    return new Promise<AppendedMessage>((resolve, reject) => {
      const { convId, senderId, body, ref } = input;
      if (
        typeof convId !== 'string' ||
        typeof senderId !== 'string' ||
        !Number.isFinite(input.ts) ||
        !(body instanceof Uint8Array) ||
        (ref !== undefined && typeof ref !== 'string')
      ) {
        reject(new ChatroomError('BAD_REQUEST', 'appendMessage needs string ids, a finite ts (ms), a Uint8Array body and a string ref if any'));
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
      this.queue.push({ record: { convId, senderId, ts, body }, bodyBuffer, ref: ref ?? null, senderHasRead: input.senderHasRead === true, resolve, reject });
      this.schedule();
    });
  }

  /** Queues a read position (coalesced with others for the same user and conversation this turn). */
  setLastRead(userId: string, convId: string, seq: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (typeof userId !== 'string' || typeof convId !== 'string' || !Number.isSafeInteger(seq) || seq < 0) {
        reject(new ChatroomError('BAD_REQUEST', 'setLastRead needs string ids and a whole seq ≥ 0'));
        return;
      }
      const entry = mergeRead(this.reads, userId, convId, seq);
      (entry.waiters ??= []).push({ resolve, reject });
      this.schedule();
    });
  }

  /** Commits everything queued, synchronously (used by close). */
  flushAll(): void {
    this.clearWindow();
    while (this.queue.length > 0 || this.reads.size > 0) this.flushOne();
  }

  /** Holds commits back (appends keep queueing); nests. */
  pause(): void {
    this.pauses++;
  }

  resume(): void {
    if (this.pauses > 0) this.pauses--;
    if (this.pauses === 0 && this.hasWork()) this.schedule();
  }

  private hasWork(): boolean {
    return this.queue.length > 0 || this.reads.size > 0;
  }

  /** Commits at the next turn once enough is queued, else when the window of the oldest entry ends. */
  private schedule(): void {
    if (this.scheduled) return;
    if (this.coalesceMs > 0 && this.queue.length + this.reads.size < this.coalesceRows) {
      if (this.windowTimer === null) this.windowTimer = setTimeout(this.windowEnded, this.coalesceMs);
      return;
    }
    this.clearWindow();
    this.scheduled = true;
    setImmediate(this.turnEnded);
  }

  private readonly windowEnded = (): void => {
    this.windowTimer = null;
    if (this.scheduled || this.pauses > 0) return;
    this.flushOne();
    if (this.hasWork()) this.schedule();
  };

  private readonly turnEnded = (): void => {
    this.scheduled = false;
    if (this.pauses > 0) return;
    this.flushOne();
    if (this.hasWork()) this.schedule();
  };

  private clearWindow(): void {
    if (this.windowTimer === null) return;
    clearTimeout(this.windowTimer);
    this.windowTimer = null;
  }

  private flushOne(): void {
    const batch = this.queue.length <= MAX_BATCH_ROWS ? this.queue : this.queue.slice(0, MAX_BATCH_ROWS);
    this.queue = batch === this.queue ? [] : this.queue.slice(MAX_BATCH_ROWS);
    const reads = this.reads;
    if (batch.length === 0 && reads.size === 0) return;
    this.reads = new Map();
    const next = new Map<string, number>();
    let result: ReturnType<typeof this.commit>;
    this.stats.transactions++;
    const started = performance.now();
    try {
      result = this.commit(batch, reads, next);
    } catch (err) {
      // Rolled back: the in-memory heads stay where the database is.
      for (const p of batch) p.reject(err);
      for (const r of reads.values()) if (r.waiters) for (const w of r.waiters) w.reject(err);
      return;
    }
    this.stats.maxCommitMs = Math.max(this.stats.maxCommitMs, performance.now() - started);
    for (const [convId, head] of next) this.heads.set(convId, head);
    const { records, readErrors } = result;
    let inserted = 0;
    for (const r of records) if (r.duplicate !== true) inserted++;
    this.stats.messages += inserted;
    this.stats.readPositions += reads.size - (readErrors?.size ?? 0);
    this.onCommitted();
    for (let i = 0; i < batch.length; i++) batch[i].resolve(records[i]);
    for (const r of reads.values()) {
      if (r.waiters === null) continue;
      const err = readErrors?.get(r);
      for (const w of r.waiters) {
        if (err === undefined) w.resolve();
        else w.reject(err);
      }
    }
  }
}

/** Raises the queued position for (user, conversation) to at least `seq`; returns its entry. */
function mergeRead(reads: Map<string, PendingRead>, userId: string, convId: string, seq: number): PendingRead {
  const key = readKey(userId, convId);
  let entry = reads.get(key);
  if (entry === undefined) reads.set(key, (entry = { userId, convId, seq, waiters: null }));
  else if (seq > entry.seq) entry.seq = seq;
  return entry;
}
