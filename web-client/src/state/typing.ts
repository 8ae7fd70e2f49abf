/**
 * Typing notices both ways: when to announce our own typing (throttled to what the server relays)
 * and who else is typing right now.
 */

/** How long a typing notice stays up after the last `typing` frame, in ms. */
export const TYPING_SHOW_MS = 5_000;
/** Minimum gap between our own `typing` frames, in ms. */
const TYPING_SEND_EVERY_MS = 3_000;
/**
 * After we send a message the others clear our typing notice, so the next keystroke may announce
 * again sooner — but not within the server's 1 s per-conversation relay limit, in ms.
 */
const TYPING_AFTER_SEND_MS = 1_100;

export interface Typist {
  user: string;
  username: string;
}

export class TypingState {
  private readonly byConv = new Map<string, Map<string, { username: string; until: number }>>();
  private readonly lastAnnounced = new Map<string, number>();
  /** Conversations where we sent a message since our last typing frame. */
  private readonly sentSinceAnnounce = new Set<string>();

  /** Whether a keystroke in `conv` now should send a `typing` frame. */
  shouldAnnounce(conv: string, now = Date.now()): boolean {
    const gap = this.sentSinceAnnounce.has(conv) ? TYPING_AFTER_SEND_MS : TYPING_SEND_EVERY_MS;
    return now - (this.lastAnnounced.get(conv) ?? 0) >= gap;
  }

  announced(conv: string, now = Date.now()): void {
    this.lastAnnounced.set(conv, now);
    this.sentSinceAnnounce.delete(conv);
  }

  /** We sent a message in `conv` (the others drop our notice when it arrives). */
  sent(conv: string): void {
    this.sentSinceAnnounce.add(conv);
  }

  /** Someone's `typing` frame arrived. */
  heard(conv: string, user: string, username: string, now = Date.now()): void {
    let map = this.byConv.get(conv);
    if (!map) this.byConv.set(conv, (map = new Map()));
    map.set(user, { username, until: now + TYPING_SHOW_MS });
  }

  /** Their message arrived: they stopped typing it. */
  stopped(conv: string, user: string): void {
    this.byConv.get(conv)?.delete(user);
  }

  /** Who is typing in `conv` now, except `me`. */
  typists(conv: string, me: string | undefined, now = Date.now()): Typist[] {
    const out: Typist[] = [];
    for (const [user, t] of this.typistsIn(conv)) {
      if (t.until > now && user !== me) out.push({ user, username: t.username });
    }
    return out;
  }

  clear(): void {
    this.byConv.clear();
    this.lastAnnounced.clear();
    this.sentSinceAnnounce.clear();
  }

  private typistsIn(conv: string) {
    return this.byConv.get(conv) ?? new Map<string, { username: string; until: number }>();
  }
}
