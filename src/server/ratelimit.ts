/**
 * In-memory token buckets keyed by a keyed hash of the client address. The HMAC key is random per
 * process and never stored, so neither memory dumps nor anything on disk link a bucket to an IP.
 * The map is bounded: the least recently used bucket is evicted first.
 */
import { createHmac, randomBytes } from 'node:crypto';

/** Random at process start; never persisted, never logged. */
const addressKey = randomBytes(32);

/** HMAC-SHA256 (base64url) of a client address: what every per-address map keys on. */
export function addressHash(address: string): string {
  return createHmac('sha256', addressKey).update(address, 'utf8').digest('base64url');
}

export interface RateLimiterOptions {
  /** Bucket size: requests allowed in a burst. */
  capacity: number;
  /** Time for an empty bucket to refill completely, ms. */
  refillMs: number;
  /** Most buckets kept at once (memory bound); default 10,000. */
  maxKeys?: number;
  /** ms since the Unix epoch; tests may move time. */
  now?: () => number;
}

export type TakeResult = { ok: true } | { ok: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** A token-bucket rate limiter per client address (e.g. sign-ins, WebSocket connections). */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly capacity: number;
  /** Tokens regained per ms. */
  private readonly rate: number;
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(opts: RateLimiterOptions) {
    this.capacity = opts.capacity;
    this.rate = opts.capacity / opts.refillMs;
    this.maxKeys = opts.maxKeys ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** Spends `cost` tokens for this address, or says how long to wait (whole seconds, ≥ 1). */
  take(address: string, cost = 1): TakeResult {
    const key = addressHash(address);
    const now = this.now();
    const bucket = this.refilled(key, now);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((cost - bucket.tokens) / this.rate / 1000)) };
  }

  /** Gives tokens back (e.g. a WebSocket connection closed); never above capacity. */
  give(address: string, amount = 1): void {
    const key = addressHash(address);
    const bucket = this.buckets.get(key);
    if (bucket) bucket.tokens = Math.min(this.capacity, bucket.tokens + amount);
  }

  /** Number of buckets held (for tests of the memory bound). */
  get size(): number {
    return this.buckets.size;
  }

  private refilled(key: string, now: number): Bucket {
    let bucket = this.buckets.get(key);
    if (bucket) {
      this.buckets.delete(key); // re-inserted below: Map order is the LRU order
      bucket.tokens = Math.min(this.capacity, bucket.tokens + Math.max(0, now - bucket.updatedAt) * this.rate);
      bucket.updatedAt = now;
    } else {
      bucket = { tokens: this.capacity, updatedAt: now };
      while (this.buckets.size >= this.maxKeys) {
        const oldest = this.buckets.keys().next().value as string;
        this.buckets.delete(oldest);
      }
    }
    this.buckets.set(key, bucket);
    return bucket;
  }
}

/** Counts concurrent things per address (e.g. open WebSocket connections) with a cap. */
export class ConcurrencyLimiter {
  private readonly counts = new Map<string, number>();
  constructor(private readonly maxPerAddress: number) {}

  /** True and counted when under the cap; false otherwise (nothing counted). */
  acquire(address: string): boolean {
    const key = addressHash(address);
    const n = this.counts.get(key) ?? 0;
    if (n >= this.maxPerAddress) return false;
    this.counts.set(key, n + 1);
    return true;
  }

  release(address: string): void {
    const key = addressHash(address);
    const n = (this.counts.get(key) ?? 0) - 1;
    if (n <= 0) this.counts.delete(key);
    else this.counts.set(key, n);
  }
}
