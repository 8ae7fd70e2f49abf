/**
 * The attachment service of one running app: the files, the uploads in progress, the sweeper and
 * the per-user upload rate limits. Created by the blob routes plugin; started on ready (sweeping
 * every idle temp file left by a crash) and stopped on close.
 */
import type { EventLog } from '../context.ts';
import type { Store } from '../../store/types.ts';
import { RateLimiter } from '../ratelimit.ts';
import { BlobFiles } from './files.ts';
import { BlobSweeper, SWEEP_INTERVAL_MS, type SweepReport } from './sweeper.ts';

/** Uploads a user may create per minute (burst; refills evenly over the minute). */
export const UPLOADS_PER_MINUTE = 60;
/** Upload pieces (PUTs) a user may send per minute: ~13 per 100 MiB file at 8 MiB pieces, plus retries. */
export const PIECES_PER_MINUTE = 600;

export class BlobService {
  readonly files: BlobFiles;
  readonly sweeper: BlobSweeper;
  /** Blob ids with a PUT being written now (one at a time per blob). */
  readonly active = new Set<string>();
  readonly createLimiter: RateLimiter;
  readonly pieceLimiter: RateLimiter;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly store: Store,
    dataPath: string,
    now: () => number,
    private readonly log: EventLog,
  ) {
    this.files = new BlobFiles(dataPath);
    this.sweeper = new BlobSweeper(store.blobs, this.files, this.active, now);
    this.createLimiter = new RateLimiter({ capacity: UPLOADS_PER_MINUTE, refillMs: 60_000, now });
    this.pieceLimiter = new RateLimiter({ capacity: PIECES_PER_MINUTE, refillMs: 60_000, now });
  }

  /** Sweeps once (every temp file: nothing is uploading yet), then every SWEEP_INTERVAL_MS and after each message delete. */
  async start(): Promise<void> {
    services.set(this.store, this);
    await this.sweep({ allTemps: true });
    this.unsubscribe = this.store.blobs.onMessagesDeleted(() => void this.sweep());
    this.timer = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  /** Sweeps, logging counts only; never throws (a failed sweep is retried at the next tick). */
  async sweep(opts: { allTemps?: boolean; now?: number } = {}): Promise<SweepReport | null> {
    try {
      const r = await this.sweeper.run(opts);
      if (r.rows + r.files + r.temps > 0) this.log.event('store.blobs_swept', { rows: r.rows, files: r.files, temps: r.temps });
      return r;
    } catch {
      this.log.event('store.blobs_sweep_failed');
      return null;
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe?.();
    await this.sweeper.idle();
    if (services.get(this.store) === this) services.delete(this.store);
  }
}

const services = new WeakMap<Store, BlobService>();

/** The running blob service of the app on `store` (for tests and tools), if any. */
export function blobServiceOf(store: Store): BlobService | undefined {
  return services.get(store);
}
