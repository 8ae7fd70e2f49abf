/**
 * The one WebSocket to /ws. Reconnects with exponential backoff and full jitter; on every open it
 * re-subscribes each conversation with `since` = the newest seq already seen, so the replay fills
 * exactly the gap (the store also drops duplicates by seq). A ping keeps idle NAT mappings alive.
 */
import type { ClientFrame, ServerFrame } from '../../../src/shared/protocol.ts';
import { CloseCode } from '../../../src/shared/protocol.ts';
import { Backoff } from './backoff.ts';

/** Keepalive period in ms; well under typical 60 s proxy/NAT idle timeouts. */
const PING_INTERVAL_MS = 25_000;

export type ConnectionStatus = 'connecting' | 'open' | 'closed';

export interface ConnectionEvents {
  frame(frame: ServerFrame): void;
  status(status: ConnectionStatus): void;
  /** The server ended this session (sign-out elsewhere): do not reconnect. */
  signedOut(): void;
}

export class Connection {
  status: ConnectionStatus = 'closed';
  private ws: WebSocket | null = null;
  private readonly backoff = new Backoff();
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private stopped = true;
  /** Conversation id → newest seq seen; the resume point after a reconnect. */
  private readonly subs = new Map<string, number>();
  private readonly events: ConnectionEvents;
  private readonly url: string;

  constructor(events: ConnectionEvents, url = defaultUrl()) {
    this.events = events;
    this.url = url;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    this.subs.clear();
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000);
    this.setStatus('closed');
  }

  /**
   * Subscribes `conv` from `since`; a no-op when already subscribed, because only messages actually
   * received (`seen`) may move the resume point — a list's `head` may be ahead of the replay.
   */
  subscribe(conv: string, since: number): void {
    if (this.subs.has(conv)) return;
    this.subs.set(conv, since);
    this.send({ t: 'sub', conv, since });
  }

  unsubscribe(conv: string): void {
    if (!this.subs.delete(conv)) return;
    this.send({ t: 'unsub', conv });
  }

  /** Records that `seq` of `conv` has been received, so a reconnect resumes after it. */
  seen(conv: string, seq: number): void {
    const known = this.subs.get(conv);
    if (known !== undefined && seq > known) this.subs.set(conv, seq);
  }

  /** Sends now if open; frames sent while disconnected are dropped (callers retry on ack timeout). */
  send(frame: ClientFrame): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  private open(): void {
    this.setStatus('connecting');
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.addEventListener('open', () => {
      if (this.ws !== ws) return;
      this.backoff.reset();
      for (const [conv, since] of this.subs) ws.send(JSON.stringify({ t: 'sub', conv, since } satisfies ClientFrame));
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => this.send({ t: 'ping' }), PING_INTERVAL_MS);
      this.setStatus('open');
    });
    ws.addEventListener('message', (ev) => {
      if (this.ws !== ws || typeof ev.data !== 'string') return;
      let frame: ServerFrame;
      try {
        frame = JSON.parse(ev.data) as ServerFrame;
      } catch {
        return;
      }
      if (frame.t === 'msg') this.seen(frame.conv, frame.seq);
      this.events.frame(frame);
    });
    ws.addEventListener('close', (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      clearInterval(this.pingTimer);
      if (ev.code === CloseCode.signedOut) {
        this.stopped = true;
        this.setStatus('closed');
        this.events.signedOut();
        return;
      }
      if (this.stopped) return;
      this.setStatus('connecting');
      this.retryTimer = setTimeout(() => this.open(), this.backoff.next());
    });
  }

  private setStatus(status: ConnectionStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.events.status(status);
  }
}

function defaultUrl(): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws`;
}
