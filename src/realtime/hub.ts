/**
 * The in-process hub: subscriptions, fan-out and presence for one server process.
 * Every broadcast is serialized and framed once (prepareFrame) and the same bytes go to every peer.
 *
 * Presence goes to every connected peer (a small instance shares one default server), but batched:
 * changes are coalesced per user for `presenceFlushMs` and each flush is one shared Buffer written
 * once per peer. A reconnect storm therefore costs one write per peer per flush instead of one per
 * peer per connect, and a page reload (offline then online within the window) costs nothing.
 * Presence to everyone is O(peers²) bytes in a storm, so above `presenceMaxPeers` open sockets it
 * is not pushed at all; clients then read `online` from GET /api/conversations/:id/members.
 */
import type { ServerFrame } from '../shared/protocol.ts';
import { batchFrames, prepareFrame } from './frame.ts';
import type { Hub, OutboundFrame, Peer } from './types.ts';

export interface HubOptions {
  /** How long presence changes are coalesced before they are sent, ms. */
  presenceFlushMs?: number;
  /** Above this many open sockets, presence is not pushed. */
  presenceMaxPeers?: number;
}

/** Coalescing window for presence changes, ms: short enough to feel live. */
export const PRESENCE_FLUSH_MS = 200;
/** 1,000 sockets × 1,000 changes × ~62 B ≈ 62 MB for a full reconnect storm: the most we push. */
export const PRESENCE_MAX_PEERS = 1000;

/** Creates an empty hub. */
export function createHub(options: HubOptions = {}): Hub {
  return new InProcessHub(options.presenceFlushMs ?? PRESENCE_FLUSH_MS, options.presenceMaxPeers ?? PRESENCE_MAX_PEERS);
}

/** The subscribers of one conversation; `id` is the one shared copy of the conversation id. */
class ConversationPeers extends Set<Peer> {
  constructor(readonly id: string) {
    super();
  }
}

/**
 * Most users have one socket and most sockets one subscription, so a single value is stored
 * inline and a Set (or array) is made only for the second: it saves ~130 bytes per connection.
 */
type OneOrMany<T> = T | Set<T>;

class InProcessHub implements Hub {
  private readonly subscribers = new Map<string, ConversationPeers>();
  private readonly peersByUser = new Map<string, OneOrMany<Peer>>();
  /** Conversations each peer is subscribed to; an entry exists only once it subscribes. */
  private readonly subscriptions = new Map<Peer, string | string[]>();
  private peerCount = 0;
  /** Users whose online state changed since the last flush. */
  private readonly presenceChanged = new Set<string>();
  /** Users last announced as online. */
  private readonly announcedOnline = new Set<string>();
  /** Users whose first socket connected since the last flush (below the cap). */
  private readonly cameOnline = new Set<string>();
  private presenceTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly presenceFlushMs: number,
    private readonly presenceMaxPeers: number,
  ) {}

  connect(peer: Peer): void {
    const current = this.peersByUser.get(peer.userId);
    if (current === undefined) {
      this.peersByUser.set(peer.userId, peer);
      this.peerCount++;
      this.cameOnline.add(peer.userId);
      this.presenceChange(peer.userId);
    } else if (current instanceof Set) {
      if (!current.has(peer)) this.peerCount++;
      current.add(peer);
    } else if (current !== peer) {
      this.peersByUser.set(peer.userId, new Set([current, peer]));
      this.peerCount++;
    }
  }

  disconnect(peer: Peer): void {
    const convs = this.subscriptions.get(peer);
    if (convs !== undefined) {
      if (typeof convs === 'string') this.removeSubscriber(convs, peer);
      else for (const convId of convs) this.removeSubscriber(convId, peer);
      this.subscriptions.delete(peer);
    }
    const current = this.peersByUser.get(peer.userId);
    if (current === peer) {
      this.peersByUser.delete(peer.userId);
    } else if (current instanceof Set && current.delete(peer)) {
      if (current.size === 1) this.peersByUser.set(peer.userId, current.values().next().value as Peer);
      this.peerCount--;
      return;
    } else {
      return;
    }
    this.peerCount--;
    this.presenceChange(peer.userId);
  }

  subscribe(peer: Peer, convId: string): void {
    if (!this.isConnected(peer)) return;
    let peers = this.subscribers.get(convId);
    if (!peers) this.subscribers.set(convId, (peers = new ConversationPeers(convId)));
    if (peers.has(peer)) return;
    peers.add(peer);
    const convs = this.subscriptions.get(peer);
    if (convs === undefined) this.subscriptions.set(peer, peers.id);
    else if (typeof convs === 'string') this.subscriptions.set(peer, [convs, peers.id]);
    else convs.push(peers.id);
  }

  unsubscribe(peer: Peer, convId: string): void {
    if (!this.removeSubscriber(convId, peer)) return;
    const convs = this.subscriptions.get(peer);
    if (convs === undefined) return;
    if (typeof convs === 'string') {
      this.subscriptions.delete(peer);
      return;
    }
    const rest = convs.filter((c) => c !== convId);
    this.subscriptions.set(peer, rest.length === 1 ? rest[0] : rest);
  }

  isSubscribed(peer: Peer, convId: string): boolean {
    return this.subscribers.get(convId)?.has(peer) ?? false;
  }

  publish(convId: string, frame: ServerFrame, exceptPeerId?: number, exceptUserId?: string): void {
    const peers = this.subscribers.get(convId);
    if (!peers) return;
    const prepared = prepareFrame(frame);
    // Iterating a Set while a delivery closes (and so removes) a slow peer is safe in JS.
    for (const peer of peers) {
      if (peer.id === exceptPeerId || peer.userId === exceptUserId) continue;
      peer.deliver(prepared);
    }
  }

  notifyUsers(userIds: Iterable<string>, frame: ServerFrame, exceptPeerId?: number): void {
    let prepared: OutboundFrame | null = null;
    for (const userId of userIds) {
      const peers = this.peersByUser.get(userId);
      if (peers === undefined) continue;
      prepared ??= prepareFrame(frame);
      if (peers instanceof Set) {
        for (const peer of peers) if (peer.id !== exceptPeerId) peer.deliver(prepared);
      } else if (peers.id !== exceptPeerId) {
        peers.deliver(prepared);
      }
    }
  }

  revoke(convId: string, userId: string): void {
    const peers = this.peersByUser.get(userId);
    if (peers === undefined) return;
    for (const peer of peers instanceof Set ? [...peers] : [peers]) this.unsubscribe(peer, convId);
    this.notifyUsers([userId], { t: 'conversations', removed: convId });
  }

  closeSessions(sessionHashes: Iterable<string>, code: number, reason: string): void {
    const hashes = new Set(sessionHashes);
    if (hashes.size === 0) return;
    // Sign-out is rare; a scan keeps per-connection memory free of a session index.
    for (const peer of this.allPeers()) {
      if (hashes.has(peer.sessionHash)) {
        this.disconnect(peer);
        peer.close(code, reason);
      }
    }
  }

  isOnline(userId: string): boolean {
    return this.peersByUser.has(userId);
  }

  onlineUserIds(): string[] {
    return [...this.peersByUser.keys()];
  }

  closeAll(code: number, reason: string): void {
    for (const peer of this.allPeers()) {
      this.disconnect(peer);
      peer.close(code, reason);
    }
    if (this.presenceTimer) clearTimeout(this.presenceTimer);
    this.presenceTimer = null;
    this.presenceChanged.clear();
    this.cameOnline.clear();
    this.announcedOnline.clear();
  }

  /** Sends the coalesced presence changes now (the timer calls this; tests may too). */
  flushPresence(): void {
    if (this.presenceTimer) clearTimeout(this.presenceTimer);
    this.presenceTimer = null;
    if (this.presenceChanged.size === 0) return;
    // Above the cap nothing is pushed and nothing counts as announced: once below it again,
    // clients get the changes relative to what they were last told.
    if (this.peerCount > this.presenceMaxPeers) {
      this.presenceChanged.clear();
      this.cameOnline.clear();
      return;
    }
    const frames: OutboundFrame[] = [];
    for (const user of this.presenceChanged) {
      const online = this.peersByUser.has(user);
      // A reload (offline then online again) inside the window is skipped. A user who came and
      // went inside one window (a slow reader dropped right after its connect) was never pushed
      // as online, but GET …/members showed it online meanwhile: that offline is sent.
      const wasShown = this.announcedOnline.has(user) || this.cameOnline.has(user);
      if (online ? this.announcedOnline.has(user) : !wasShown) continue;
      if (online) this.announcedOnline.add(user);
      else this.announcedOnline.delete(user);
      frames.push(prepareFrame({ t: 'presence', user, online }));
    }
    this.presenceChanged.clear();
    this.cameOnline.clear();
    if (frames.length === 0) return;
    const batch = batchFrames(frames);
    for (const peer of this.allPeers()) peer.deliver(batch);
  }

  private presenceChange(userId: string): void {
    this.presenceChanged.add(userId);
    if (this.presenceTimer) return;
    this.presenceTimer = setTimeout(() => this.flushPresence(), this.presenceFlushMs);
    this.presenceTimer.unref();
  }

  private isConnected(peer: Peer): boolean {
    const current = this.peersByUser.get(peer.userId);
    return current === peer || (current instanceof Set && current.has(peer));
  }

  /** A snapshot, so callers may disconnect peers while they loop. */
  private allPeers(): Peer[] {
    const all: Peer[] = [];
    for (const peers of this.peersByUser.values()) {
      if (peers instanceof Set) for (const peer of peers) all.push(peer);
      else all.push(peers);
    }
    return all;
  }

  /** False when the peer was not subscribed. */
  private removeSubscriber(convId: string, peer: Peer): boolean {
    const peers = this.subscribers.get(convId);
    if (!peers || !peers.delete(peer)) return false;
    if (peers.size === 0) this.subscribers.delete(convId);
    return true;
  }
}
