/**
 * The realtime hub's interface: who is connected, who is subscribed to what, fan-out and presence.
 * It imports nothing from src/server or Fastify; the WebSocket route adapts sockets to `Peer`.
 */
import type { ServerFrame } from '../shared/protocol.ts';

/**
 * A server frame serialized and framed once, then written as the same bytes to every recipient
 * (src/realtime/frame.ts). `conv`/`seq` are set for `msg` frames so a peer that is replaying
 * history can buffer and de-duplicate live ones.
 */
export interface OutboundFrame {
  /** The JSON text. */
  readonly text: string;
  /** The complete unmasked WebSocket text frame (header + UTF-8 payload), shared by all peers. */
  readonly wire: Buffer;
  readonly conv?: string;
  readonly seq?: number;
  /**
   * Set when `wire` is several frames back to back (a presence batch): a peer that cannot take
   * the raw bytes sends these one by one instead of `text`.
   */
  readonly parts?: readonly OutboundFrame[];
}

/** One connected socket, as the hub sees it. */
export interface Peer {
  /** Unique in this process (a small integer, so it costs no allocation). */
  readonly id: number;
  readonly userId: string;
  /** SHA-256 hash of the session token, so sign-out can close exactly that session's sockets. */
  readonly sessionHash: string;
  /** Writes an already-prepared frame (prepared once per broadcast, written to every peer). */
  deliver(frame: OutboundFrame): void;
  /** Closes the socket with an application close code (src/shared/protocol.ts CloseCode). */
  close(code: number, reason: string): void;
}

export interface Hub {
  /** Registers a connection; presence goes online on the user's first peer. */
  connect(peer: Peer): void;
  /** Unregisters; drops its subscriptions; presence goes offline after the user's last peer. */
  disconnect(peer: Peer): void;
  subscribe(peer: Peer, convId: string): void;
  unsubscribe(peer: Peer, convId: string): void;
  isSubscribed(peer: Peer, convId: string): boolean;
  /**
   * Prepares the frame once and writes it to every peer subscribed to the conversation, except
   * the peer `exceptPeerId` and every peer of the user `exceptUserId`.
   */
  publish(convId: string, frame: ServerFrame, exceptPeerId?: number, exceptUserId?: string): void;
  /** Sends a frame to every peer of these users (e.g. `conversations` changes, `read` sync). */
  notifyUsers(userIds: Iterable<string>, frame: ServerFrame, exceptPeerId?: number): void;
  /** The user lost access: drop their subscriptions to it and tell their peers. */
  revoke(convId: string, userId: string): void;
  /** Closes every socket of these sessions (sign-out). */
  closeSessions(sessionHashes: Iterable<string>, code: number, reason: string): void;
  isOnline(userId: string): boolean;
  /** User ids with at least one open socket. */
  onlineUserIds(): string[];
  /** Sends pending (coalesced) presence changes now instead of at the end of the window. */
  flushPresence(): void;
  /** Closes every socket (server shutdown). */
  closeAll(code: number, reason: string): void;
}
