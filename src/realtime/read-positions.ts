/**
 * Read positions moved by the user's own sends, coalesced: every send in one event-loop turn
 * (one group commit's worth) becomes at most one setLastRead per (user, conversation), issued
 * together on setImmediate so a store that batches writes per turn commits them as one.
 */
import type { Store } from '../store/types.ts';

export class ReadPositions {
  /** `${userId} ${convId}` → highest seq not yet written. */
  private readonly pending = new Map<string, number>();
  private scheduled = false;

  constructor(
    private readonly store: Store,
    private readonly onError: () => void,
  ) {}

  /** Moves the user's read position in the conversation to at least `seq`. */
  advance(userId: string, convId: string, seq: number): void {
    const key = `${userId} ${convId}`;
    const current = this.pending.get(key);
    if (current === undefined || seq > current) this.pending.set(key, seq);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Writes everything pending now (also called when the server closes). */
  flush(): void {
    this.scheduled = false;
    for (const [key, seq] of this.pending) {
      const space = key.indexOf(' ');
      this.store.setLastRead(key.slice(0, space), key.slice(space + 1), seq).catch(this.onError);
    }
    this.pending.clear();
  }
}
