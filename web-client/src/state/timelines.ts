/**
 * Messages held per conversation, keyed by seq so a replay, a history page and a live frame of the
 * same message collapse into one. Also whether older history exists and whether a page is loading.
 */
import type { StoredMessage } from '../../../src/shared/api.ts';

export class Timelines {
  private readonly bySeq = new Map<string, Map<number, StoredMessage>>();
  /** Ascending copies, rebuilt lazily after a change (render reads them often). */
  private readonly sorted = new Map<string, StoredMessage[]>();
  private readonly more = new Map<string, boolean>();
  private readonly loading = new Set<string>();

  /** Adds a message; false when this seq is already held (a duplicate). */
  add(m: StoredMessage): boolean {
    let map = this.bySeq.get(m.conv);
    if (!map) this.bySeq.set(m.conv, (map = new Map()));
    if (map.has(m.seq)) return false;
    map.set(m.seq, { conv: m.conv, seq: m.seq, sender: m.sender, senderName: m.senderName, ts: m.ts, body: m.body });
    this.sorted.delete(m.conv);
    return true;
  }

  has(conv: string, seq: number): boolean {
    return this.bySeq.get(conv)?.has(seq) ?? false;
  }

  get(conv: string, seq: number): StoredMessage | undefined {
    return this.bySeq.get(conv)?.get(seq);
  }

  /** Ids of the conversations holding messages. */
  conversations(): string[] {
    return [...this.bySeq.keys()];
  }

  /** Forgets one conversation's messages (access lost). */
  drop(conv: string): void {
    this.bySeq.delete(conv);
    this.sorted.delete(conv);
    this.more.delete(conv);
    this.loading.delete(conv);
  }

  /** Messages of `conv`, ascending by seq. */
  list(conv: string): StoredMessage[] {
    let list = this.sorted.get(conv);
    if (!list) {
      list = [...(this.bySeq.get(conv)?.values() ?? [])].sort((a, b) => a.seq - b.seq);
      this.sorted.set(conv, list);
    }
    return list;
  }

  /** Newest seq held (0 when none). */
  newest(conv: string): number {
    const list = this.list(conv);
    return list.length ? list[list.length - 1].seq : 0;
  }

  /** Oldest seq held, the `before` of the next history page. */
  oldest(conv: string): number | undefined {
    return this.list(conv)[0]?.seq;
  }

  /** True until a history page said there is nothing older; also before the first page. */
  hasMore(conv: string): boolean {
    return this.more.get(conv) ?? true;
  }

  /** Whether a history page was ever loaded for `conv`. */
  loaded(conv: string): boolean {
    return this.more.has(conv);
  }

  setHasMore(conv: string, hasMore: boolean): void {
    this.more.set(conv, hasMore);
  }

  isLoading(conv: string): boolean {
    return this.loading.has(conv);
  }

  setLoading(conv: string, on: boolean): void {
    if (on) this.loading.add(conv);
    else this.loading.delete(conv);
  }

  clear(): void {
    this.bySeq.clear();
    this.sorted.clear();
    this.more.clear();
    this.loading.clear();
  }
}
