/**
 * What each client frame does. Access is decided by store.getAccess on every sub and read, and on
 * a send to a conversation the connection is not subscribed to (a subscription implies access:
 * hub.revoke drops it). A conversation the user may not see answers NOT_FOUND, like a missing one.
 * Message bodies are opaque: only their decoded length is computed, never their content.
 */
import type { ClientFrame, MessageFrame } from '../shared/protocol.ts';
import type { SocketPeer } from './connection.ts';
import { monotonicMs } from './clock.ts';

/** Messages read from the store per replay page. */
const REPLAY_PAGE = 256;
/** At most one typing relay per connection and conversation in this window, ms. */
const TYPING_INTERVAL_MS = 1000;

type Frame<T extends ClientFrame['t']> = Extract<ClientFrame, { t: T }>;

/** Runs one validated frame (frames of one connection run one after another). */
export async function handleFrame(peer: SocketPeer, frame: ClientFrame): Promise<void> {
  switch (frame.t) {
    case 'sub':
      return subscribe(peer, frame);
    case 'unsub':
      peer.ctx.hub.unsubscribe(peer, frame.conv);
      return;
    case 'send':
      return send(peer, frame);
    case 'typing':
      return typing(peer, frame);
    case 'read':
      return read(peer, frame);
    case 'ping':
      peer.send({ t: 'pong' });
      return;
  }
}

/**
 * Subscribe first, then replay history, holding live frames meanwhile: a message committed during
 * the replay is either in a replayed page or held (or both, and then dropped by seq), so the
 * client sees every seq after `since` exactly once and in order.
 */
async function subscribe(peer: SocketPeer, frame: Frame<'sub'>): Promise<void> {
  const { hub, store, slowReaderBytes } = peer.ctx;
  const conv = frame.conv;
  const access = await store.getAccess(conv, peer.userId);
  if (!access) return peer.sendError('NOT_FOUND', { conv });
  if (!peer.isOpen) return;
  peer.holdLive(conv);
  hub.subscribe(peer, conv);
  let last = frame.since ?? 0;
  const names = new Map<string, string>();
  // Revoked (kicked, banned) or closed while we awaited: stop sending its history.
  const stillWanted = (): boolean => peer.isOpen && hub.isSubscribed(peer, conv);
  for (;;) {
    const page = await store.messagesAfter(conv, last, REPLAY_PAGE);
    if (!stillWanted()) return void peer.releaseLive(conv);
    for (const m of page) {
      // Never queue more than half the slow-reader cap of history: wait for the client to read.
      if (peer.bufferedAmount > slowReaderBytes / 2) {
        await peer.drained();
        if (!stillWanted()) return void peer.releaseLive(conv);
      }
      let senderName = names.get(m.senderId);
      if (senderName === undefined) {
        senderName = (await store.getUser(m.senderId))?.username ?? '';
        names.set(m.senderId, senderName);
        if (!stillWanted()) return void peer.releaseLive(conv);
      }
      const body = Buffer.from(m.body.buffer, m.body.byteOffset, m.body.byteLength).toString('base64');
      const msg: MessageFrame = { t: 'msg', conv, seq: m.seq, sender: m.senderId, senderName, ts: m.ts, body };
      peer.send(msg);
      last = m.seq;
    }
    if (page.length < REPLAY_PAGE) break;
  }
  for (const live of peer.releaseLive(conv)) {
    if ((live.seq ?? 0) <= last) continue;
    peer.deliver(live);
    last = live.seq ?? last;
  }
  peer.skipLiveUpTo(conv, last);
  peer.send({ t: 'subscribed', conv, head: Math.max(last, access.conversation.head) });
}

async function send(peer: SocketPeer, frame: Frame<'send'>): Promise<void> {
  const { hub, store, limits, now } = peer.ctx;
  const { ref, conv, body } = frame;
  if (decodedLength(body) > limits.maxBodyBytes) return peer.sendError('BODY_TOO_LARGE', { ref, conv });
  // Subscription implies access (hub.revoke drops it on kick, ban and leave), so a send to a
  // subscribed conversation skips the two SELECTs of getAccess.
  if (!hub.isSubscribed(peer, conv) && !(await store.getAccess(conv, peer.userId))) return peer.sendError('NOT_FOUND', { ref, conv });
  // Attachments are claimed before the message is stored and attached once it is: a crash in
  // between leaves a claim that the blob sweep resolves from the stored message (or expires).
  const blobIds = frame.blobIds ? [...new Set(frame.blobIds)] : [];
  if (blobIds.length > 0) {
    const claim = await store.blobs.claim({ ids: blobIds, convId: conv, senderId: peer.userId, ref, now: now() });
    if (!claim.ok) return peer.sendError('BLOB_NOT_ATTACHABLE', { ref, conv });
  }
  const bytes = Buffer.from(body, 'base64');
  // The sender has read what they sent: that position commits with the message, so the list
  // shows no unread for it once the ack is out.
  const record = await store.appendMessage({ convId: conv, senderId: peer.userId, ts: now(), body: bytes, ref, senderHasRead: true });
  if (blobIds.length > 0) await store.blobs.attach({ ids: blobIds, convId: conv, senderId: peer.userId, ref, seq: record.seq });
  // The commit has happened: ack, then fan out, with no await in between so that acks and
  // deliveries leave in seq order. A repeated ref (the ack was lost) is acked again, never re-published.
  peer.send({ t: 'ack', ref, conv, seq: record.seq, ts: record.ts });
  if (record.duplicate === true) return;
  hub.publish(
    conv,
    { t: 'msg', conv, seq: record.seq, sender: peer.userId, senderName: peer.username, ts: record.ts, body },
    peer.id,
  );
}

function typing(peer: SocketPeer, frame: Frame<'typing'>): void {
  const { hub } = peer.ctx;
  // Subscription implies access (revoke drops it), so typing needs no database read.
  if (!hub.isSubscribed(peer, frame.conv)) return peer.sendError('NOT_FOUND', { conv: frame.conv });
  const at = monotonicMs();
  if (peer.lastTypingConv === frame.conv && at - peer.lastTypingAt < TYPING_INTERVAL_MS) return;
  peer.lastTypingConv = frame.conv;
  peer.lastTypingAt = at;
  hub.publish(frame.conv, { t: 'typing', conv: frame.conv, user: peer.userId, username: peer.username }, undefined, peer.userId);
}

async function read(peer: SocketPeer, frame: Frame<'read'>): Promise<void> {
  const { hub, store } = peer.ctx;
  const access = await store.getAccess(frame.conv, peer.userId);
  if (!access) return peer.sendError('NOT_FOUND', { conv: frame.conv });
  const seq = Math.min(frame.seq, access.conversation.head);
  await store.setLastRead(peer.userId, frame.conv, seq);
  hub.notifyUsers([peer.userId], { t: 'read', conv: frame.conv, seq }, peer.id);
}

/** Bytes that a standard base64 string decodes to (the schema already checked the alphabet). */
export function decodedLength(b64: string): number {
  const padding = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  return Math.floor((b64.length * 3) / 4) - padding;
}
