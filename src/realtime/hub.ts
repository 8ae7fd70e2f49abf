/**
 * The in-process hub: subscriptions, fan-out and presence for one server process.
 * Every broadcast is serialized and framed once (prepareFrame) and the same bytes go to every peer.
 */
import type { ServerFrame } from '../shared/protocol.ts';
import { prepareFrame } from './frame.ts';
import type { Hub, OutboundFrame, Peer } from './types.ts';

/** Creates an empty hub. Presence goes to every connected peer (a small instance shares one server). */
export function createHub(): Hub {
  return new InProcessHub();
}

class InProcessHub implements Hub {
  private readonly subscribers = new Map<string, Set<Peer>>();
  private readonly peersByUser = new Map<string, Set<Peer>>();
  /** Conversations each peer is subscribed to; an entry exists only once it subscribes. */
  private readonly subscriptions = new Map<Peer, Set<string>>();

  connect(peer: Peer): void {
    const peers = this.peersByUser.get(peer.userId);
    if (peers) {
      peers.add(peer);
      return;
    }
    this.peersByUser.set(peer.userId, new Set([peer]));
    this.broadcastAll(prepareFrame({ t: 'presence', user: peer.userId, online: true }), peer);
  }

  disconnect(peer: Peer): void {
    const convs = this.subscriptions.get(peer);
    if (convs) {
      for (const convId of convs) this.removeSubscriber(convId, peer);
      this.subscriptions.delete(peer);
    }
    const peers = this.peersByUser.get(peer.userId);
    if (!peers || !peers.delete(peer)) return;
    if (peers.size > 0) return;
    this.peersByUser.delete(peer.userId);
    this.broadcastAll(prepareFrame({ t: 'presence', user: peer.userId, online: false }), null);
  }

  subscribe(peer: Peer, convId: string): void {
    if (!this.peersByUser.get(peer.userId)?.has(peer)) return;
    let peers = this.subscribers.get(convId);
    if (!peers) this.subscribers.set(convId, (peers = new Set()));
    peers.add(peer);
    let convs = this.subscriptions.get(peer);
    if (!convs) this.subscriptions.set(peer, (convs = new Set()));
    convs.add(convId);
  }

  unsubscribe(peer: Peer, convId: string): void {
    this.removeSubscriber(convId, peer);
    const convs = this.subscriptions.get(peer);
    if (!convs) return;
    convs.delete(convId);
    if (convs.size === 0) this.subscriptions.delete(peer);
  }

  isSubscribed(peer: Peer, convId: string): boolean {
    return this.subscribers.get(convId)?.has(peer) ?? false;
  }

  publish(convId: string, frame: ServerFrame, exceptPeerId?: string, exceptUserId?: string): void {
    const peers = this.subscribers.get(convId);
    if (!peers || peers.size === 0) return;
    const prepared = prepareFrame(frame);
    // Copy first: a delivery may close a slow peer, which unsubscribes it while we iterate.
    for (const peer of [...peers]) {
      if (peer.id === exceptPeerId || peer.userId === exceptUserId) continue;
      peer.deliver(prepared);
    }
  }

  notifyUsers(userIds: Iterable<string>, frame: ServerFrame, exceptPeerId?: string): void {
    let prepared: OutboundFrame | null = null;
    for (const userId of userIds) {
      const peers = this.peersByUser.get(userId);
      if (!peers) continue;
      prepared ??= prepareFrame(frame);
      for (const peer of [...peers]) if (peer.id !== exceptPeerId) peer.deliver(prepared);
    }
  }

  revoke(convId: string, userId: string): void {
    const peers = this.peersByUser.get(userId);
    if (!peers) return;
    for (const peer of peers) this.unsubscribe(peer, convId);
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
  }

  private allPeers(): Peer[] {
    const all: Peer[] = [];
    for (const peers of this.peersByUser.values()) for (const peer of peers) all.push(peer);
    return all;
  }

  private removeSubscriber(convId: string, peer: Peer): void {
    const peers = this.subscribers.get(convId);
    if (!peers) return;
    peers.delete(peer);
    if (peers.size === 0) this.subscribers.delete(convId);
  }

  /** Writes one prepared frame to every connected peer except `skip`. */
  private broadcastAll(frame: OutboundFrame, skip: Peer | null): void {
    for (const peer of this.allPeers()) if (peer !== skip) peer.deliver(frame);
  }
}
