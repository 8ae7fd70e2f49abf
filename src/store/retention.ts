/** Message retention: deletes messages older than `retentionDays`, every hour (runOnce for right now). */
import type { Store } from './types.ts';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export interface Retention {
  /** Purges now; resolves with the number of messages deleted. */
  runOnce(): Promise<number>;
  /** Stops the timer (a purge already running finishes). */
  stop(): void;
}

/**
 * Starts the purge timer (unref'd: it never keeps the process alive). With 'forever' nothing is
 * ever deleted and no timer runs. The store makes the deletes real (secure_delete + WAL checkpoint).
 * `intervalMs` defaults to one hour; `now` (ms since the epoch) lets tests move time.
 */
export function startRetention(
  store: Store,
  retentionDays: number | 'forever',
  opts: { now?: () => number; intervalMs?: number } = {},
): Retention {
  if (retentionDays === 'forever') return { runOnce: async () => 0, stop: () => {} };
  if (!Number.isFinite(retentionDays) || retentionDays <= 0) throw new RangeError(`retentionDays must be a positive number or 'forever', got ${retentionDays}`);
  const now = opts.now ?? Date.now;
  let running: Promise<number> | null = null;
  const runOnce = (): Promise<number> => {
    // One purge at a time: an hourly tick that lands during a long purge joins it.
    running ??= store.purgeMessagesBefore(now() - retentionDays * DAY_MS).finally(() => {
      running = null;
    });
    return running;
  };
  const timer = setInterval(() => {
    // A failed purge (e.g. the store closing) is retried at the next tick.
    runOnce().catch(() => {});
  }, opts.intervalMs ?? HOUR_MS);
  timer.unref();
  return { runOnce, stop: () => clearInterval(timer) };
}
