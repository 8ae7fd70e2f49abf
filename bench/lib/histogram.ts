/**
 * A latency histogram with logarithmic buckets 1 % wide, so percentiles are within 1 % of the
 * true value from 1 µs to ~10 min, in constant memory whatever the sample count.
 */

/** Smallest value kept apart, ms (1 µs); anything smaller lands in bucket 0. */
const MIN_MS = 0.001;
/** Each bucket is 1 % wider than the one below. */
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
/** 1 µs × 1.01^2000 ≈ 440 s: enough for any backlog a bench step can build. */
const BUCKETS = 2000;

/** Percentiles over recorded latencies, ms. */
export class LogHistogram {
  private readonly counts = new Uint32Array(BUCKETS);
  private total = 0;
  private maxMs = 0;

  record(ms: number): void {
    const i = ms <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / MIN_MS) / LOG_GROWTH));
    this.counts[i]++;
    this.total++;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  get count(): number {
    return this.total;
  }

  /** The upper edge of the bucket holding the q-quantile (0 < q ≤ 1), ms; 0 when empty. */
  quantile(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.ceil(q * this.total);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(this.maxMs, MIN_MS * GROWTH ** i);
    }
    return this.maxMs;
  }

  /** The usual summary, ms, rounded to µs. */
  summary(): { count: number; p50Ms: number; p90Ms: number; p99Ms: number; p999Ms: number; maxMs: number } {
    const r = (v: number) => Math.round(v * 1000) / 1000;
    return {
      count: this.total,
      p50Ms: r(this.quantile(0.5)),
      p90Ms: r(this.quantile(0.9)),
      p99Ms: r(this.quantile(0.99)),
      p999Ms: r(this.quantile(0.999)),
      maxMs: r(this.maxMs),
    };
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.maxMs = 0;
  }
}
