/**
 * Reconnect delays: exponential backoff with full jitter, bounded, reset after a success. Pure (the
 * random source is injectable) so it can be tested without sockets or timers.
 */

/** Backoff bounds in ms: first retry within 0.5 s, never wait longer than 10 s (a home server that restarts should be back in the chat within seconds). */
export const BACKOFF_BASE_MS = 500;
export const BACKOFF_MAX_MS = 10_000;

/** Delay before reconnect attempt `attempt` (0-based), in ms: uniform in [0, min(max, base·2^n)]. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  // Clamp the exponent: 2 ** 1100 is Infinity, and the cap is reached long before that anyway.
  const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(Math.max(attempt, 0), 30));
  return Math.round(random() * cap);
}

/** Counts consecutive failures; `next()` gives the wait before the next try, `reset()` on success. */
export class Backoff {
  private attempt = 0;
  private readonly random: () => number;

  constructor(random: () => number = Math.random) {
    this.random = random;
  }

  /** Wait in ms before the next attempt; each call counts one more failure. */
  next(): number {
    return backoffDelay(this.attempt++, this.random);
  }

  /** A connection opened: the next failure starts again from the shortest wait. */
  reset(): void {
    this.attempt = 0;
  }

  /** Failures since the last reset. */
  get failures(): number {
    return this.attempt;
  }
}
