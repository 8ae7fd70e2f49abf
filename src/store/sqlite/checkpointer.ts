/**
 * WAL checkpoints in a worker thread with its own connection, so the event loop never waits on
 * one. The worker runs a PASSIVE checkpoint every `intervalMs`, or sooner once about `maxWalBytes`
 * have been written since the last one; a TRUNCATE on request (after a purge, so deleted bytes
 * leave the WAL). The -wal file's size cannot drive this: it stays at its high-water mark after the
 * WAL restarts, so the writer counts its bytes into shared memory instead.
 *
 * The worker is inline (eval) CommonJS that requires better-sqlite3 by absolute path: that works the
 * same from src/ under tsx and from the built dist/, with no .ts/.js entry to resolve.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';

export type CheckpointMode = 'PASSIVE' | 'TRUNCATE';

export interface CheckpointResult {
  /** SQLite's answer: busy (1 when a lock blocked it), WAL frames, frames checkpointed. */
  busy: number;
  log: number;
  checkpointed: number;
}

export interface CheckpointerOptions {
  /** Periodic PASSIVE checkpoint, ms (default 30 s). */
  intervalMs?: number;
  /** Checkpoint early once about this many bytes were written since the last checkpoint (default 16 MiB). */
  maxWalBytes?: number;
  /** How often the worker looks at the byte count, ms (default 1 s). */
  pollMs?: number;
}

const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driverPath);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
db.pragma('wal_autocheckpoint = 0');
// Bytes the writer committed since the last checkpoint (an estimate of WAL growth).
const written = new Int32Array(workerData.written);
let last = Date.now();
function checkpoint(mode) {
  last = Date.now();
  Atomics.store(written, 0, 0);
  const r = db.pragma('wal_checkpoint(' + mode + ')')[0];
  return { busy: r.busy, log: r.log, checkpointed: r.checkpointed };
}
const timer = setInterval(() => {
  if (Date.now() - last < workerData.intervalMs && Atomics.load(written, 0) < workerData.maxWalBytes) return;
  try {
    const result = checkpoint('PASSIVE');
    parentPort.postMessage({ type: 'periodic', result });
  } catch (err) {
    parentPort.postMessage({ type: 'periodic', error: String(err && err.code || 'checkpoint failed') });
  }
}, workerData.pollMs);
parentPort.on('message', (m) => {
  if (m.type === 'checkpoint') {
    try {
      // Copy frames without blocking writers first, so the TRUNCATE's write lock is short.
      if (m.mode === 'TRUNCATE') checkpoint('PASSIVE');
      parentPort.postMessage({ type: 'done', id: m.id, result: checkpoint(m.mode) });
    } catch (err) {
      parentPort.postMessage({ type: 'done', id: m.id, error: String(err && err.message || err) });
    }
  } else if (m.type === 'stop') {
    clearInterval(timer);
    db.close();
    parentPort.close();
  }
});
parentPort.postMessage({ type: 'ready' });
`;

interface Waiter {
  resolve(r: CheckpointResult): void;
  reject(err: Error): void;
}

/** Owns the checkpoint worker for one database file. */
export class Checkpointer {
  private readonly worker: Worker;
  private readonly waiters = new Map<number, Waiter>();
  private periodicWaiters: Array<(r: CheckpointResult) => void> = [];
  private nextId = 1;
  private exited = false;
  private stopping = false;
  private readonly written = new Int32Array(new SharedArrayBuffer(4));
  private readonly exitPromise: Promise<void>;
  /** Checkpoints the worker has run (periodic and requested), for tests. */
  count = 0;

  constructor(file: string, opts: CheckpointerOptions = {}) {
    const driverPath = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(workerSource, {
      eval: true,
      // No tsx or test flags in the worker: it is plain CommonJS.
      execArgv: [],
      workerData: {
        file,
        driverPath,
        written: this.written.buffer,
        intervalMs: opts.intervalMs ?? 30_000,
        maxWalBytes: opts.maxWalBytes ?? 16 * 1024 * 1024,
        pollMs: opts.pollMs ?? 1000,
      },
    });
    this.worker.on('message', (m: { type: string; id?: number; result?: CheckpointResult; error?: string }) => {
      if (m.type === 'periodic' && m.result) {
        this.count++;
        const waiters = this.periodicWaiters;
        this.periodicWaiters = [];
        for (const w of waiters) w(m.result);
        this.releaseRef();
      }
      if (m.type !== 'done' || m.id === undefined) return;
      const w = this.waiters.get(m.id);
      if (!w) return;
      this.waiters.delete(m.id);
      if (m.error !== undefined) w.reject(new Error(`WAL checkpoint failed: ${m.error}`));
      else {
        this.count++;
        w.resolve(m.result!);
      }
    });
    this.exitPromise = new Promise<void>((resolve) => {
      this.worker.once('exit', () => {
        this.exited = true;
        for (const w of this.waiters.values()) w.reject(new Error('the checkpoint worker stopped'));
        this.waiters.clear();
        resolve();
      });
    });
    // An error ends the worker ('exit' follows); without a listener it would crash the process.
    this.worker.on('error', () => {});
    // Never keeps the process alive on its own (after the listeners: adding one re-refs the port).
    this.worker.unref();
  }

  /** False once the worker has stopped (or failed): callers then checkpoint on their own connection. */
  get alive(): boolean {
    return !this.exited;
  }

  /** Counts bytes the writer committed, so the worker can checkpoint before the WAL grows large. */
  noteWritten(bytes: number): void {
    // Saturates well below 2^31 so the counter cannot wrap between two polls.
    if (Atomics.load(this.written, 0) < 1 << 30) Atomics.add(this.written, 0, bytes);
  }

  /** Runs a checkpoint in the worker and resolves when it is done. */
  checkpoint(mode: CheckpointMode): Promise<CheckpointResult> {
    if (this.exited) return Promise.reject(new Error('the checkpoint worker stopped'));
    const id = this.nextId++;
    return new Promise<CheckpointResult>((resolve, reject) => {
      this.waiters.set(id, { resolve, reject });
      // A pending request must hold the process until it is answered.
      this.worker.ref();
      this.worker.postMessage({ type: 'checkpoint', id, mode });
    }).finally(() => this.releaseRef());
  }

  /** Resolves with the next checkpoint the worker runs on its own (timer or WAL size), for tests. */
  nextPeriodic(): Promise<CheckpointResult> {
    if (this.exited) return Promise.reject(new Error('the checkpoint worker stopped'));
    this.worker.ref();
    return new Promise((resolve) => this.periodicWaiters.push(resolve));
  }

  private releaseRef(): void {
    if (this.waiters.size === 0 && this.periodicWaiters.length === 0 && !this.exited && !this.stopping) this.worker.unref();
  }

  /** Closes the worker's connection and waits for the thread to end. */
  async stop(): Promise<void> {
    if (this.exited) return;
    this.stopping = true;
    // Held until it has exited: an unref'd worker alone would let the loop end with close() pending.
    this.worker.ref();
    this.worker.postMessage({ type: 'stop' });
    await this.exitPromise;
  }
}
