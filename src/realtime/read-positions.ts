/**
 * Read positions moved by the user's own sends, written lazily. Store.setLastRead is one SQLite
 * transaction (an fsync with synchronous=FULL) per call, so writing one per send stalled the event
 * loop for seconds under load (bench rooms: 5,000 senders × 1 msg/s). Instead the highest seq per
 * (user, conversation) is kept in memory and written every FLUSH_INTERVAL_MS, when the user's last
 * socket closes, and at shutdown, at most WRITES_PER_TURN per event-loop turn.
 */
import type { Store } from '../store/types.ts';

/** How long a sender's own read position may wait before it is written, ms. */
export const FLUSH_INTERVAL_MS = 15_000;
/** Writes per event-loop turn while flushing: each is a transaction, ~0.25 ms on a fast disk. */
const WRITES_PER_TURN = 32;

export class ReadPositions {
  /** userId → convId → highest seq not yet written. */
  private readonly pending = new Map<string, Map<string, number>>();
  private timer: NodeJS.Timeout | null = null;
  /** Writes under way, so shutdown can wait for them before the store closes. */
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    private readonly store: Store,
    private readonly onError: () => void,
    private readonly intervalMs = FLUSH_INTERVAL_MS,
  ) {}

  /** Moves the user's read position in the conversation to at least `seq` (written later). */
  advance(userId: string, convId: string, seq: number): void {
    let convs = this.pending.get(userId);
    if (!convs) this.pending.set(userId, (convs = new Map()));
    const current = convs.get(convId);
    if (current === undefined || seq > current) convs.set(convId, seq);
    if (this.timer) return;
    this.timer = setTimeout(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  /** Writes this user's pending positions now (their last socket closed). */
  flushUser(userId: string): Promise<void> {
    const convs = this.pending.get(userId);
    if (!convs) return Promise.resolve();
    this.pending.delete(userId);
    return this.write([...convs].map(([convId, seq]) => [userId, convId, seq] as const));
  }

  /** Writes everything pending and waits for writes under way (the timer, and shutdown). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const writes: Array<readonly [string, string, number]> = [];
    for (const [userId, convs] of this.pending) for (const [convId, seq] of convs) writes.push([userId, convId, seq]);
    this.pending.clear();
    await Promise.all([this.write(writes), ...this.inflight]);
  }

  private write(writes: ReadonlyArray<readonly [string, string, number]>): Promise<void> {
    if (writes.length === 0) return Promise.resolve();
    const done = this.writeAll(writes).finally(() => this.inflight.delete(done));
    this.inflight.add(done);
    return done;
  }

  private async writeAll(writes: ReadonlyArray<readonly [string, string, number]>): Promise<void> {
    for (let i = 0; i < writes.length; i++) {
      if (i > 0 && i % WRITES_PER_TURN === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const [userId, convId, seq] = writes[i];
      await this.store.setLastRead(userId, convId, seq).catch(this.onError);
    }
  }
}
