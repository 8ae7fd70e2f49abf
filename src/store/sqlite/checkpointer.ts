/**
 * WAL checkpoints in a worker thread with its own connection, so the event loop never runs one
 * and never waits on one.
 *
 * Why the shape: a PASSIVE checkpoint never blocks the writer, but under steady writes it never
 * catches up with the WAL's end, so the WAL never restarts and grows without bound (measured: 2 GB
 * of WAL for 60 MB of rows). RESTART/TRUNCATE would catch up, but they take the write lock, and a
 * main-thread commit waiting on that lock sleeps in SQLite's busy handler — on the event loop.
 * So: the worker runs PASSIVE every `pollMs` while there were commits (and every `intervalMs`
 * regardless). Once the WAL holds more than `maxWalBytes` it asks the main thread to *pause group
 * commit* (appends wait in memory, asynchronously), runs a last PASSIVE that now copies everything,
 * and lets commits resume: the next commit then starts the WAL from the beginning. A TRUNCATE (after
 * a purge, so deleted bytes leave the WAL file) is a PASSIVE while commits flow, then the TRUNCATE
 * itself inside such a pause. A pause lasts at most MAX_PAUSE_MS.
 *
 * The worker is inline (eval) CommonJS that requires better-sqlite3 by absolute path: that works the
 * same from src/ under tsx and from the built dist/, with no .ts/.js entry to resolve.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';

export type CheckpointMode = 'PASSIVE' | 'TRUNCATE';

export interface CheckpointResult {
  /** SQLite's answer: busy (1 when a lock blocked it), frames in the WAL, frames checkpointed. */
  busy: number;
  log: number;
  checkpointed: number;
  /** True for the catch-up checkpoint run while commits were paused (the WAL restarts next). */
  caughtUp: boolean;
}

export interface CheckpointerOptions {
  /** A PASSIVE checkpoint at least this often even without commits seen, ms (default 30 s). */
  intervalMs?: number;
  /** Restart the WAL once it holds more than this, bytes (default 16 MiB). */
  maxWalBytes?: number;
  /** How often the worker looks for new commits, ms (default 100 ms: small checkpoints contend less with commits' fsync). */
  pollMs?: number;
}

/** What the checkpointer needs from the store. */
export interface CheckpointHost {
  /** Holds group commit back while the worker catches up; resolves once no commit is in flight. */
  pause(): Promise<void> | void;
  resume(): void;
  /** The worker keeps failing: let SQLite checkpoint on the main connection instead (stalls, but a bounded WAL). */
  fallBack(): void;
}

/** Times a worker that died on its own is started again before the host falls back. */
const MAX_RESPAWNS = 3;

/** Longest the main thread keeps commits paused for the worker, ms; past it, commits go on. */
const MAX_PAUSE_MS = 500;

const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driverPath);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
db.pragma('wal_autocheckpoint = 0');
// A WAL frame is one page plus a 24-byte header.
const maxFrames = Math.ceil(workerData.maxWalBytes / (db.pragma('page_size', { simple: true }) + 24));
// Set by the main thread after each commit (shared memory: no message per commit).
const commits = new Int32Array(workerData.commits);
let lastRun = Date.now();
let waitingForPause = false;
function checkpoint(mode, caughtUp) {
  lastRun = Date.now();
  const r = db.pragma('wal_checkpoint(' + mode + ')')[0];
  return { busy: r.busy, log: r.log, checkpointed: r.checkpointed, caughtUp };
}
function report(type, fn, extra) {
  try {
    parentPort.postMessage(Object.assign({ type, result: fn() }, extra));
  } catch (err) {
    parentPort.postMessage(Object.assign({ type, error: String((err && err.code) || (err && err.message) || err) }, extra));
  }
}
const timer = setInterval(() => {
  if (waitingForPause) return;
  const dirty = Atomics.exchange(commits, 0, 0) > 0;
  if (!dirty && Date.now() - lastRun < workerData.intervalMs) return;
  let result;
  try {
    result = checkpoint('PASSIVE', false);
  } catch (err) {
    parentPort.postMessage({ type: 'periodic', error: String((err && err.code) || 'checkpoint failed') });
    return;
  }
  parentPort.postMessage({ type: 'periodic', result });
  if (result.log >= maxFrames) {
    waitingForPause = true;
    parentPort.postMessage({ type: 'pause' });
  }
}, workerData.pollMs);
parentPort.on('message', (m) => {
  if (m.type === 'paused') {
    // No commit can start now: this PASSIVE copies every frame, so the next commit restarts the WAL.
    waitingForPause = false;
    report('periodic', () => checkpoint('PASSIVE', true), { resume: true });
  } else if (m.type === 'checkpoint') {
    const blocking = m.mode !== 'PASSIVE';
    report('done', () => {
      // Commits are paused meanwhile, so wait only briefly on another process's locks (the caller retries).
      if (blocking) db.pragma('busy_timeout = 100');
      try {
        return checkpoint(m.mode, blocking);
      } finally {
        if (blocking) db.pragma('busy_timeout = 5000');
      }
    }, { id: m.id });
  } else if (m.type === 'stop') {
    clearInterval(timer);
    db.close();
    parentPort.close();
  }
});
`;

interface WorkerMessage {
  type: 'periodic' | 'pause' | 'done';
  id?: number;
  result?: CheckpointResult;
  error?: string;
  resume?: boolean;
}

interface Waiter {
  resolve(r: CheckpointResult): void;
  reject(err: Error): void;
}

/** Owns the checkpoint worker for one database file. */
export class Checkpointer {
  private worker!: Worker;
  private respawns = 0;
  private readonly workerData: Record<string, unknown>;
  private readonly waiters = new Map<number, Waiter>();
  private periodicWaiters: Array<{ match: (r: CheckpointResult) => boolean; resolve: (r: CheckpointResult) => void }> = [];
  private nextId = 1;
  private exited = false;
  private stopping = false;
  /** Release functions of the current pauses of group commit. */
  private readonly holds = new Set<() => void>();
  /** The pause the worker asked for, until it reports that it caught up. */
  private workerHold: (() => void) | null = null;
  private readonly commits = new Int32Array(new SharedArrayBuffer(4));
  private exitPromise!: Promise<void>;
  /** Checkpoints the worker has run (periodic and requested, a TRUNCATE's PASSIVE included), for tests. */
  count = 0;

  constructor(
    file: string,
    private readonly host: CheckpointHost,
    opts: CheckpointerOptions = {},
  ) {
    this.workerData = {
      file,
      driverPath: createRequire(import.meta.url).resolve('better-sqlite3'),
      commits: this.commits.buffer,
      intervalMs: opts.intervalMs ?? 30_000,
      maxWalBytes: opts.maxWalBytes ?? 16 * 1024 * 1024,
      pollMs: opts.pollMs ?? 100,
    };
    this.spawn();
  }

  private spawn(): void {
    // No tsx or test flags in the worker: it is plain CommonJS.
    const worker = new Worker(workerSource, { eval: true, execArgv: [], workerData: this.workerData });
    this.worker = worker;
    this.exited = false;
    worker.on('message', (m: WorkerMessage) => this.onMessage(m));
    this.exitPromise = new Promise<void>((resolve) => {
      worker.once('exit', () => {
        for (const release of [...this.holds]) release();
        this.workerHold = null;
        for (const w of this.waiters.values()) w.reject(new Error('the checkpoint worker stopped'));
        this.waiters.clear();
        if (!this.stopping && this.respawns < MAX_RESPAWNS) {
          this.respawns++;
          this.spawn();
        } else {
          this.exited = true;
          if (!this.stopping) this.host.fallBack();
        }
        resolve();
      });
    });
    // An error ends the worker ('exit' follows); without a listener it would crash the process.
    worker.on('error', () => {});
    // Never keeps the process alive on its own (after the listeners: adding one re-refs the port).
    worker.unref();
  }

  private onMessage(m: WorkerMessage): void {
    if (m.type === 'pause') {
      this.workerHold?.();
      const hold = this.hold();
      this.workerHold = hold.release;
      // Only once the commit in flight (if any) is done: then no commit can start until resume.
      const worker = this.worker;
      void hold.ready.then(() => {
        if (this.workerHold === hold.release && this.worker === worker) worker.postMessage({ type: 'paused' });
      });
      return;
    }
    if (m.type === 'periodic') {
      if (m.resume) {
        this.workerHold?.();
        this.workerHold = null;
      }
      if (!m.result) return;
      this.count++;
      const result = m.result;
      const matched = this.periodicWaiters.filter((w) => w.match(result));
      this.periodicWaiters = this.periodicWaiters.filter((w) => !matched.includes(w));
      for (const w of matched) w.resolve(result);
      this.releaseRef();
      return;
    }
    const w = m.id === undefined ? undefined : this.waiters.get(m.id);
    if (!w) return;
    this.waiters.delete(m.id!);
    if (m.error !== undefined) w.reject(new Error(`WAL checkpoint failed: ${m.error}`));
    else {
      this.count++;
      w.resolve(m.result!);
    }
  }

  /**
   * Pauses group commit until `release` runs, or MAX_PAUSE_MS pass (a stuck worker must not stall
   * messages); `ready` resolves once the commit in flight, if any, has finished.
   */
  private hold(): { release: () => void; ready: Promise<void> } {
    const ready = Promise.resolve(this.host.pause());
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      clearTimeout(deadline);
      this.holds.delete(release);
      this.host.resume();
      this.releaseRef();
    };
    const deadline = setTimeout(release, MAX_PAUSE_MS);
    this.holds.add(release);
    // Queued appends wait on the worker's answer, so it (and the deadline) must hold the loop.
    this.worker.ref();
    return { release, ready };
  }

  /** False once the worker has stopped (or failed): callers then checkpoint on their own connection. */
  get alive(): boolean {
    return !this.exited;
  }

  /** Tells the worker the main connection committed (one atomic store, no message). */
  noteCommit(): void {
    Atomics.store(this.commits, 0, 1);
  }

  /**
   * Runs a checkpoint in the worker and resolves when it is done. For TRUNCATE, a PASSIVE first
   * copies the bulk while commits flow; the TRUNCATE itself runs with group commit paused, so no
   * main-thread commit waits on its lock.
   */
  async checkpoint(mode: CheckpointMode): Promise<CheckpointResult> {
    if (mode === 'PASSIVE') return this.request('PASSIVE');
    await this.request('PASSIVE');
    const { release, ready } = this.hold();
    try {
      await ready;
      return await this.request(mode);
    } finally {
      release();
    }
  }

  private request(mode: CheckpointMode): Promise<CheckpointResult> {
    if (this.exited) return Promise.reject(new Error('the checkpoint worker stopped'));
    const id = this.nextId++;
    return new Promise<CheckpointResult>((resolve, reject) => {
      this.waiters.set(id, { resolve, reject });
      // A pending request must hold the process until it is answered.
      this.worker.ref();
      this.worker.postMessage({ type: 'checkpoint', id, mode });
    }).finally(() => this.releaseRef());
  }

  /** Resolves with the next checkpoint the worker runs on its own that `match`es (for tests). */
  nextPeriodic(match: (r: CheckpointResult) => boolean = () => true): Promise<CheckpointResult> {
    if (this.exited) return Promise.reject(new Error('the checkpoint worker stopped'));
    this.worker.ref();
    return new Promise((resolve) => this.periodicWaiters.push({ match, resolve }));
  }

  private releaseRef(): void {
    const needed = this.waiters.size > 0 || this.periodicWaiters.length > 0 || this.holds.size > 0 || this.stopping;
    if (!needed && !this.exited) this.worker.unref();
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
