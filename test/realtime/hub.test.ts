// The in-process hub on its own: subscribe/publish fan-out, frame-once, revoke, presence, sign-out and shutdown, with fake peers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as wsModule from 'ws';
import { createHub } from '../../src/realtime/hub.ts';
import { frameText, prepareFrame } from '../../src/realtime/frame.ts';
import type { OutboundFrame, Peer } from '../../src/realtime/types.ts';
import type { ServerFrame } from '../../src/shared/protocol.ts';

class FakePeer implements Peer {
  static count = 0;
  readonly id = ++FakePeer.count;
  readonly received: OutboundFrame[] = [];
  closedWith: { code: number; reason: string } | null = null;
  constructor(
    readonly userId: string,
    readonly sessionHash = `s-${userId}`,
  ) {}
  deliver(frame: OutboundFrame): void {
    this.received.push(frame);
  }
  close(code: number, reason: string): void {
    this.closedWith = { code, reason };
  }
  frames(): ServerFrame[] {
    return this.received.flatMap((f) => f.parts ?? [f]).map((f) => JSON.parse(f.text) as ServerFrame);
  }
  framesOf(t: ServerFrame['t']): ServerFrame[] {
    return this.frames().filter((f) => f.t === t);
  }
}

const msg = (conv: string, seq: number): ServerFrame => ({ t: 'msg', conv, seq, sender: 'u', senderName: 'u', ts: 1, body: 'aGk=' });

test('publish reaches every subscriber of the conversation once, with one shared prepared frame', () => {
  const hub = createHub();
  const a = new FakePeer('alice');
  const b = new FakePeer('bob');
  const c = new FakePeer('carol');
  for (const p of [a, b, c]) hub.connect(p);
  hub.subscribe(a, 'room');
  hub.subscribe(b, 'room');
  hub.subscribe(c, 'other');
  hub.publish('room', msg('room', 1));
  const [fa] = a.framesOf('msg');
  assert.deepEqual(fa, msg('room', 1));
  assert.equal(b.framesOf('msg').length, 1);
  assert.equal(c.framesOf('msg').length, 0);
  const sharedA = a.received.find((f) => f.seq === 1);
  const sharedB = b.received.find((f) => f.seq === 1);
  assert.ok(sharedA && sharedA === sharedB, 'the same prepared frame object goes to every peer');
  assert.equal(sharedA.conv, 'room');
});

test('publish skips the excepted peer and, for typing, every peer of the excepted user', () => {
  const hub = createHub();
  const a1 = new FakePeer('alice');
  const a2 = new FakePeer('alice');
  const b = new FakePeer('bob');
  for (const p of [a1, a2, b]) {
    hub.connect(p);
    hub.subscribe(p, 'room');
  }
  hub.publish('room', msg('room', 1), a1.id);
  assert.deepEqual([a1, a2, b].map((p) => p.framesOf('msg').length), [0, 1, 1]);
  hub.publish('room', { t: 'typing', conv: 'room', user: 'alice', username: 'alice' }, undefined, 'alice');
  assert.deepEqual([a1, a2, b].map((p) => p.framesOf('typing').length), [0, 0, 1]);
});

test('unsubscribe and disconnect stop deliveries', () => {
  const hub = createHub();
  const a = new FakePeer('alice');
  const b = new FakePeer('bob');
  hub.connect(a);
  hub.connect(b);
  hub.subscribe(a, 'room');
  hub.subscribe(b, 'room');
  hub.unsubscribe(a, 'room');
  assert.equal(hub.isSubscribed(a, 'room'), false);
  hub.disconnect(b);
  assert.equal(hub.isSubscribed(b, 'room'), false);
  hub.publish('room', msg('room', 1));
  assert.equal(a.framesOf('msg').length + b.framesOf('msg').length, 0);
});

test('a peer that is not connected cannot subscribe', () => {
  const hub = createHub();
  const ghost = new FakePeer('ghost');
  hub.subscribe(ghost, 'room');
  assert.equal(hub.isSubscribed(ghost, 'room'), false);
});

test('presence: online on the first socket of a user, offline after the last, sent at the flush', () => {
  const hub = createHub();
  const watcher = new FakePeer('watcher');
  hub.connect(watcher);
  hub.flushPresence();
  const a1 = new FakePeer('alice');
  const a2 = new FakePeer('alice');
  hub.connect(a1);
  hub.connect(a2);
  assert.equal(hub.isOnline('alice'), true);
  assert.deepEqual(watcher.framesOf('presence').length, 1, 'only its own, so far');
  hub.flushPresence();
  assert.deepEqual(watcher.framesOf('presence').slice(1), [{ t: 'presence', user: 'alice', online: true }]);
  hub.disconnect(a1);
  hub.flushPresence();
  assert.equal(watcher.framesOf('presence').length, 2, 'still online through a2');
  hub.disconnect(a2);
  hub.disconnect(a2);
  assert.equal(hub.isOnline('alice'), false);
  hub.flushPresence();
  assert.deepEqual(watcher.framesOf('presence').slice(1), [
    { t: 'presence', user: 'alice', online: true },
    { t: 'presence', user: 'alice', online: false },
  ]);
  assert.deepEqual(hub.onlineUserIds(), ['watcher']);
});

test('presence changes in one window are coalesced per user and written as one shared batch', () => {
  const hub = createHub();
  const watcher = new FakePeer('watcher');
  hub.connect(watcher);
  hub.flushPresence();
  watcher.received.length = 0;
  const reload = new FakePeer('reloader');
  hub.connect(reload);
  hub.flushPresence();
  watcher.received.length = 0;
  // A page reload (offline, then online again) inside one window announces nothing.
  hub.disconnect(reload);
  hub.connect(new FakePeer('reloader'));
  hub.connect(new FakePeer('bob'));
  hub.connect(new FakePeer('carol'));
  hub.flushPresence();
  assert.equal(watcher.received.length, 1, 'one write for the whole batch');
  assert.deepEqual(watcher.frames(), [
    { t: 'presence', user: 'bob', online: true },
    { t: 'presence', user: 'carol', online: true },
  ]);
  const batch = watcher.received[0];
  assert.ok(batch.wire.equals(Buffer.concat((batch.parts ?? []).map((p) => p.wire))));
});

test('presence bug: a user dropped as a slow reader inside the window it connected in is still announced offline', () => {
  const hub = createHub();
  const watcher = new FakePeer('watcher');
  hub.connect(watcher);
  hub.flushPresence();
  watcher.received.length = 0;
  const reader = new FakePeer('reader');
  hub.connect(reader);
  // What GET /api/conversations/:id/members reports to the watcher meanwhile.
  assert.equal(hub.isOnline('reader'), true);
  // SocketPeer.close(slowReader) leaves the hub at once, before the first flush.
  hub.disconnect(reader);
  hub.flushPresence();
  assert.deepEqual(watcher.framesOf('presence'), [{ t: 'presence', user: 'reader', online: false }]);
  hub.flushPresence();
  assert.equal(watcher.framesOf('presence').length, 1, 'announced once');
});

test('presence bug: a slow reader dropped by a presence flush itself is announced offline at the next one', () => {
  const hub = createHub();
  const watcher = new FakePeer('watcher');
  const reader = new FakePeer('reader');
  reader.deliver = () => hub.disconnect(reader);
  hub.connect(watcher);
  hub.connect(reader);
  hub.flushPresence();
  hub.flushPresence();
  assert.deepEqual(
    watcher.framesOf('presence').filter((f) => f.t === 'presence' && f.user === 'reader'),
    [
      { t: 'presence', user: 'reader', online: true },
      { t: 'presence', user: 'reader', online: false },
    ],
  );
});

test('presence flushes by itself after the window', async () => {
  const hub = createHub({ presenceFlushMs: 5 });
  const watcher = new FakePeer('watcher');
  hub.connect(watcher);
  const seen = new Promise<void>((resolve) => {
    watcher.deliver = (frame) => {
      watcher.received.push(frame);
      resolve();
    };
  });
  await seen;
  assert.deepEqual(watcher.framesOf('presence'), [{ t: 'presence', user: 'watcher', online: true }]);
  hub.closeAll(1001, 'done');
});

test('presence is not pushed above presenceMaxPeers open sockets', () => {
  const hub = createHub({ presenceMaxPeers: 2 });
  const peers = [new FakePeer('a'), new FakePeer('b'), new FakePeer('c')];
  for (const p of peers) hub.connect(p);
  hub.flushPresence();
  assert.deepEqual(peers.map((p) => p.framesOf('presence').length), [0, 0, 0]);
  hub.disconnect(peers[2]);
  hub.disconnect(peers[1]);
  hub.flushPresence();
  assert.deepEqual(peers[0].framesOf('presence'), [], 'b and c were never announced, so no offline for them');
  const d = new FakePeer('d');
  hub.connect(d);
  hub.flushPresence();
  assert.deepEqual(peers[0].framesOf('presence'), [{ t: 'presence', user: 'd', online: true }], 'pushed again below the cap');
});

test('revoke drops the user subscriptions on every socket and tells them', () => {
  const hub = createHub();
  const a1 = new FakePeer('alice');
  const a2 = new FakePeer('alice');
  const b = new FakePeer('bob');
  for (const p of [a1, a2, b]) {
    hub.connect(p);
    hub.subscribe(p, 'room');
    hub.subscribe(p, 'keep');
  }
  hub.revoke('room', 'alice');
  hub.publish('room', msg('room', 1));
  hub.publish('keep', msg('keep', 1));
  for (const p of [a1, a2]) {
    assert.deepEqual(p.framesOf('conversations'), [{ t: 'conversations', removed: 'room' }]);
    assert.deepEqual(p.framesOf('msg').map((f) => (f as { conv: string }).conv), ['keep']);
  }
  assert.equal(b.framesOf('msg').length, 2);
  assert.equal(b.framesOf('conversations').length, 0);
});

test('notifyUsers reaches every socket of those users except the excepted one', () => {
  const hub = createHub();
  const a1 = new FakePeer('alice');
  const a2 = new FakePeer('alice');
  const b = new FakePeer('bob');
  for (const p of [a1, a2, b]) hub.connect(p);
  hub.notifyUsers(['alice', 'nobody'], { t: 'read', conv: 'room', seq: 3 }, a1.id);
  assert.deepEqual([a1, a2, b].map((p) => p.framesOf('read').length), [0, 1, 0]);
});

test('closeSessions closes exactly those sessions sockets, and they leave the hub', () => {
  const hub = createHub();
  const a1 = new FakePeer('alice', 'h1');
  const a2 = new FakePeer('alice', 'h2');
  const b = new FakePeer('bob', 'h3');
  for (const p of [a1, a2, b]) {
    hub.connect(p);
    hub.subscribe(p, 'room');
  }
  hub.closeSessions(['h1', 'h3'], 4001, 'signed out');
  assert.deepEqual(a1.closedWith, { code: 4001, reason: 'signed out' });
  assert.deepEqual(b.closedWith, { code: 4001, reason: 'signed out' });
  assert.equal(a2.closedWith, null);
  assert.equal(hub.isOnline('bob'), false);
  assert.equal(hub.isOnline('alice'), true);
  hub.publish('room', msg('room', 1));
  assert.equal(a1.framesOf('msg').length, 0);
  assert.equal(a2.framesOf('msg').length, 1);
});

test('closeAll closes every socket', () => {
  const hub = createHub();
  const peers = [new FakePeer('a'), new FakePeer('b'), new FakePeer('b')];
  for (const p of peers) hub.connect(p);
  hub.closeAll(1001, 'bye');
  assert.deepEqual(peers.map((p) => p.closedWith?.code), [1001, 1001, 1001]);
  assert.deepEqual(hub.onlineUserIds(), []);
});

test('a peer that closes during a publish does not disturb the others', () => {
  const hub = createHub();
  const b = new FakePeer('bob');
  const a = new (class extends FakePeer {
    override deliver(): void {
      hub.disconnect(this);
    }
  })('alice');
  hub.connect(a);
  hub.connect(b);
  hub.subscribe(a, 'room');
  hub.subscribe(b, 'room');
  hub.publish('room', msg('room', 1));
  assert.equal(b.framesOf('msg').length, 1);
  assert.equal(hub.isSubscribed(a, 'room'), false);
});

/** ws's own framer (not in @types/ws): the reference our frame-once path must match byte for byte. */
const { Sender } = wsModule as unknown as { Sender: { frame(data: Buffer, o: object): Buffer[] } };

test('frameText builds the same bytes as ws for 2-, 4- and 10-byte headers', () => {
  for (const size of [0, 1, 125, 126, 65535, 65536, 200_000]) {
    const text = 'é'.repeat(Math.floor(size / 2)) + 'x'.repeat(size % 2);
    const expected = Buffer.concat(Sender.frame(Buffer.from(text), { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false }));
    assert.ok(frameText(text).equals(expected), `size ${size}`);
  }
  const prepared = prepareFrame({ t: 'pong' });
  assert.equal(prepared.text, '{"t":"pong"}');
  assert.equal(prepared.seq, undefined);
});
