/**
 * One WebSocket connection: validates client frames, enforces the per-connection rate limit and
 * slow-reader cap, and writes frames. What each frame does is in handlers.ts.
 *
 * Memory per idle connection is kept small on purpose (target ≤ 1.25× raw ws): plain fields, no
 * per-connection closures (the socket listeners are shared functions that find the peer through
 * a symbol), and lazily created maps.
 */
import type { WebSocket, RawData } from 'ws';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ClientFrame, CloseCode, type ServerFrame } from '../shared/protocol.ts';
import { ErrorCodes, type ErrorCode } from '../shared/errors.ts';
import type { Hub, OutboundFrame, Peer } from './types.ts';
import type { Store } from '../store/types.ts';
import type { Config } from '../config/schema.ts';
import { frameText } from './frame.ts';
import { handleFrame } from './handlers.ts';
import { monotonicMs } from './clock.ts';

/** Compiled once per process: validating a frame is a plain function call. */
const clientFrameCheck = TypeCompiler.Compile(ClientFrame);

/** ws readyState OPEN. */
const OPEN = 1;
/** ws Sender state DEFAULT: nothing queued behind a compression or Blob read. */
const SENDER_IDLE = 0;
/** Frames accepted but not yet handled, per connection, beyond the rate limit's burst, before new ones are refused. */
const QUEUE_SLACK_FRAMES = 64;

const kPeer = Symbol('chatroom.peer');

/**
 * Unsent bytes past which a socket is a slow reader: config.limits.maxBufferedBytes, but never
 * less than four of the largest msg frames (a base64 body of maxBodyBytes plus its envelope), so
 * that one big message in flight plus a small frame behind it is never mistaken for one.
 */
export function slowReaderBytes(limits: Config['limits']): number {
  const largestFrame = Math.ceil(limits.maxBodyBytes / 3) * 4 + 1024;
  return Math.max(limits.maxBufferedBytes, 4 * largestFrame);
}

/** What every connection shares (one object per server, not per connection). */
export interface ConnectionContext {
  hub: Hub;
  /** Frees the per-address connection slot this socket took before the upgrade. */
  releaseAddress: (key: string) => void;
  store: Store;
  limits: Config['limits'];
  /** slowReaderBytes(limits), bytes. */
  slowReaderBytes: number;
  /** ms since the Unix epoch, for message timestamps. */
  now: () => number;
  /** Operational event log: codes only, never content or addresses. */
  event: (code: string) => void;
}

export interface Identity {
  userId: string;
  username: string;
  sessionHash: string;
  /** The per-address slot key (AddressLimit), released when this socket closes. */
  addressKey: string;
}

let nextPeerId = 0;

interface HeldFrames {
  frames: OutboundFrame[];
  /** Sum of the frames' wire sizes, bytes. */
  bytes: number;
}

/** A `Peer` backed by a `ws` WebSocket. Create it synchronously in the upgrade handler. */
export class SocketPeer implements Peer {
  readonly id: number;
  readonly userId: string;
  readonly username: string;
  readonly sessionHash: string;
  readonly ctx: ConnectionContext;
  private readonly ws: WebSocket;
  private addressKey: string | null;
  private closed = false;
  // Numbers below are kept as small integers (no heap allocation per field, unlike doubles).
  /** Token bucket in milli-frames; goes negative while a client floods. */
  private milliTokens: number;
  /** Whole ms on the monotonic clock of the last refill. */
  private refilledAt: number;
  private queued = 0;
  private tail: Promise<void> | null = null;
  /** conv → live msg frames held back while that conversation's history is replayed. */
  private replays: Map<string, HeldFrames> | null = null;
  /**
   * conv → the last seq a finished replay sent. The store commits in a worker thread, so a message
   * can be in the database (and replayed) before its live frame is published: such a late frame
   * is dropped here. Cleared by the first live frame past it (later ones are higher: a
   * conversation's frames are published in seq order).
   */
  private replayFloors: Map<string, number> | null = null;
  /** Typing relays are limited to one per conversation per TYPING_INTERVAL_MS. */
  lastTypingConv = '';
  lastTypingAt = 0;

  constructor(ws: WebSocket, who: Identity, ctx: ConnectionContext) {
    this.id = ++nextPeerId;
    this.userId = who.userId;
    this.username = who.username;
    this.sessionHash = who.sessionHash;
    this.addressKey = who.addressKey;
    this.ctx = ctx;
    this.ws = ws;
    this.milliTokens = ctx.limits.messagesPerSecond * 2 * 1000;
    this.refilledAt = monotonicMs();
    (ws as unknown as Record<symbol, SocketPeer>)[kPeer] = this;
    ws.on('message', onSocketMessage);
    ws.on('close', onSocketClose);
    ws.on('error', onWebSocketError);
    ctx.hub.connect(this);
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  deliver(frame: OutboundFrame): void {
    if (frame.conv !== undefined && this.replayFloors !== null && frame.seq !== undefined) {
      const floor = this.replayFloors.get(frame.conv);
      if (floor !== undefined) {
        if (frame.seq <= floor) return;
        this.replayFloors.delete(frame.conv);
        if (this.replayFloors.size === 0) this.replayFloors = null;
      }
    }
    if (frame.conv !== undefined && this.replays !== null) {
      const held = this.replays.get(frame.conv);
      if (held) {
        // Held frames count against the same cap as unsent bytes: a replay that cannot keep up
        // with live traffic is a slow reader too.
        held.bytes += frame.wire.length;
        if (held.bytes + this.ws.bufferedAmount > this.ctx.slowReaderBytes) {
          this.ctx.event('ws.slow_reader');
          this.close(CloseCode.slowReader, 'slow reader');
        } else {
          held.frames.push(frame);
        }
        return;
      }
    }
    this.write(frame);
  }

  /** Serializes and writes a frame meant for this connection only. */
  send(frame: ServerFrame): void {
    const text = JSON.stringify(frame);
    this.write({ text, wire: frameText(text) });
  }

  sendError(code: ErrorCode, extra: { ref?: string; conv?: string } = {}): void {
    this.send({ t: 'error', code, message: ErrorCodes[code].message, ...extra });
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.replays = null;
    this.leaveHub();
    this.ws.close(code, reason);
  }

  /** Unsent bytes for this socket (kernel-side excluded), bytes. */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /** Resolves once the socket's write buffer drains (or it closes). */
  drained(): Promise<void> {
    const socket = rawSocketOf(this.ws);
    if (!socket || this.closed || socket.writableLength === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
  }

  /** Starts holding live msg frames of `conv`, for the duration of a history replay. */
  holdLive(conv: string): void {
    (this.replays ??= new Map()).set(conv, { frames: [], bytes: 0 });
  }

  /** Stops holding and returns what was held for `conv`, ascending by seq. */
  releaseLive(conv: string): OutboundFrame[] {
    const held = this.replays?.get(conv)?.frames ?? [];
    this.replays?.delete(conv);
    if (this.replays?.size === 0) this.replays = null;
    return held.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
  }

  /** After a replay that sent up to `seq`: live frames of `conv` at or below it are late duplicates. */
  skipLiveUpTo(conv: string, seq: number): void {
    (this.replayFloors ??= new Map()).set(conv, seq);
  }

  /** Called for every inbound frame. */
  receive(data: RawData, isBinary: boolean): void {
    if (this.closed) return;
    if (!this.takeToken()) return;
    if (isBinary) return this.sendError('BAD_FRAME');
    let parsed: unknown;
    try {
      parsed = JSON.parse(String(data));
    } catch {
      return this.sendError('BAD_FRAME');
    }
    if (!clientFrameCheck.Check(parsed)) return this.sendError('BAD_FRAME', refOf(parsed));
    // A ping behind queued frames waits its turn, so its pong says they are done (a read committed).
    if (parsed.t === 'ping' && this.queued === 0) return this.send({ t: 'pong' });
    if (this.queued >= QUEUE_SLACK_FRAMES + this.ctx.limits.messagesPerSecond * 2) return this.sendError('RATE_LIMITED', refOf(parsed));
    this.queued++;
    const frame = parsed;
    const run = (): Promise<void> =>
      handleFrame(this, frame)
        .catch(() => {
          this.ctx.event('ws.handler_failed');
          if (!this.closed) this.sendError('INTERNAL', refOf(frame));
        })
        .finally(() => {
          if (--this.queued === 0) this.tail = null;
        });
    // Frames of one connection run in order, so a client's sends get increasing seqs.
    this.tail = this.tail ? this.tail.then(run) : run();
  }

  /** Called when ws reports the socket closed (by either side). */
  closedBySocket(): void {
    this.closed = true;
    this.replays = null;
    this.leaveHub();
    if (this.addressKey !== null) this.ctx.releaseAddress(this.addressKey);
    this.addressKey = null;
  }

  private leaveHub(): void {
    this.ctx.hub.disconnect(this);
  }

  /** Writes one complete frame: straight to the TCP socket when ws has nothing queued. */
  private write(frame: OutboundFrame): void {
    const ws = this.ws;
    if (this.closed || ws.readyState !== OPEN) return;
    // Checked before each write, so a slow reader holds at most the cap plus one frame.
    if (ws.bufferedAmount > this.ctx.slowReaderBytes) {
      this.ctx.event('ws.slow_reader');
      this.close(CloseCode.slowReader, 'slow reader');
      return;
    }
    const socket = rawSocketOf(ws);
    const sender = (ws as unknown as { _sender?: { _state?: number } })._sender;
    if (socket && socket.writable && sender && sender._state === SENDER_IDLE) socket.write(frame.wire);
    else if (frame.parts) for (const part of frame.parts) ws.send(part.text);
    else ws.send(frame.text);
  }

  /** Token bucket: `messagesPerSecond` sustained, bursts of 2×; a flood past another 2× closes 4008. */
  private takeToken(): boolean {
    const rate = this.ctx.limits.messagesPerSecond;
    const burst = rate * 2000;
    const now = monotonicMs();
    // rate frames/s is exactly rate milli-frames per ms.
    this.milliTokens = Math.min(burst, this.milliTokens + (now - this.refilledAt) * rate);
    this.refilledAt = now;
    this.milliTokens -= 1000;
    if (this.milliTokens >= 0) return true;
    if (this.milliTokens <= -burst) {
      this.ctx.event('ws.rate_limited_close');
      this.close(CloseCode.rateLimited, 'rate limited');
    } else {
      this.sendError('RATE_LIMITED');
    }
    return false;
  }
}

function rawSocketOf(ws: WebSocket): import('node:net').Socket | undefined {
  return (ws as unknown as { _socket?: import('node:net').Socket })._socket;
}

function refOf(frame: unknown): { ref?: string; conv?: string } {
  const out: { ref?: string; conv?: string } = {};
  if (frame && typeof frame === 'object') {
    const { ref, conv } = frame as { ref?: unknown; conv?: unknown };
    if (typeof ref === 'string' && ref.length > 0 && ref.length <= 64) out.ref = ref;
    if (typeof conv === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(conv)) out.conv = conv;
  }
  return out;
}

function onSocketMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  (this as unknown as Record<symbol, SocketPeer>)[kPeer].receive(data, isBinary);
}

function onSocketClose(this: WebSocket): void {
  (this as unknown as Record<symbol, SocketPeer>)[kPeer].closedBySocket();
}

/** A protocol or socket error: nothing in it may be logged, and the connection is beyond use. */
export function onWebSocketError(this: WebSocket): void {
  this.terminate();
}
