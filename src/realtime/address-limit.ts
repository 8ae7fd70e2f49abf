/**
 * Open connections per client address, in memory only. Addresses are keyed by an HMAC with a
 * random per-process key, so neither this map nor a heap dump holds an IP address.
 */
import { createHmac, randomBytes } from 'node:crypto';

/** Counts connections per address against a cap. */
export class AddressLimit {
  private readonly key = randomBytes(32);
  private readonly counts = new Map<string, number>();
  constructor(private readonly cap: number) {}

  /** The opaque key for an address (16 bytes of HMAC-SHA-256, base64). */
  keyOf(address: string): string {
    return createHmac('sha256', this.key).update(address).digest().subarray(0, 16).toString('base64');
  }

  /** Takes one slot; false (and nothing taken) when the address is at its cap. */
  acquire(key: string): boolean {
    const n = this.counts.get(key) ?? 0;
    if (n >= this.cap) return false;
    this.counts.set(key, n + 1);
    return true;
  }

  release(key: string): void {
    const n = this.counts.get(key) ?? 0;
    if (n <= 1) this.counts.delete(key);
    else this.counts.set(key, n - 1);
  }

  /** Addresses with at least one connection (for tests and metrics). */
  get size(): number {
    return this.counts.size;
  }
}
