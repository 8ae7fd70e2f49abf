// The WebSocket endpoint end to end: ack after commit, ordered fan-out, concurrent senders, resume without gap or duplicate, typing, presence, read sync.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startTestServer } from '../helpers/server.ts';
import { b64, connect, createSession, createWorld, type WsClient } from '../helpers/direct.ts';
import type { ServerFrame } from '../../src/shared/protocol.ts';

type Msg = Extract<ServerFrame, { t: 'msg' }>;
type Ack = Extract<ServerFrame, { t: 'ack' }>;

/** Seqs this client has seen for `conv`, in arrival order: its own acks and everyone else's msgs. */
function seqStream(client: WsClient, conv: string): number[] {
  return client.all.filter((f): f is Msg | Ack => (f.t === 'msg' || f.t === 'ack') && f.conv === conv).map((f) => f.seq);
}

/** Resolves once `client` has seen `count` seqs for `conv`. */
async function untilSeqs(client: WsClient, conv: string, count: number): Promise<number[]> {
  while (seqStream(client, conv).length < count) await client.next((f) => f.t === 'msg' || f.t === 'ack', 10_000);
  return seqStream(client, conv);
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test('send is acked after the commit and reaches every subscriber, the sender’s other sockets too, in order', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const w = await createWorld(server);
  // Bob first, so that he sees alice come online (presence is not replayed to late joiners).
  const bob = await connect(server, w.bob.cookie);
  const a1 = await connect(server, w.alice.cookie);
  const second = await createSession(server, w.alice.user.id);
  const a2 = await connect(server, second.cookie);
  const carol = await connect(server, w.carol.cookie);
  t.after(() => Promise.all([a1, a2, bob, carol].map((c) => c.close())));
  for (const c of [a1, a2, bob]) await c.subscribe(w.general);
  const isAlice = (p: { user: string }): boolean => p.user === w.alice.user.id;
  await bob.nextOf('presence', (p) => isAlice(p) && p.online);

  // A second, read-only connection to the database file sees only committed rows.
  const reader = new Database(join(server.dir, 'chatroom.db'), { readonly: true, fileMustExist: true });
  t.after(() => reader.close());
  const committed = reader.prepare('SELECT count(*) AS n FROM messages WHERE seq = ?').pluck();

  for (let i = 1; i <= 5; i++) {
    a1.send({ t: 'send', ref: `r${i}`, conv: w.general, body: b64(`hello ${i}`) });
    const ack = await a1.nextOf('ack');
    assert.deepEqual({ ref: ack.ref, conv: ack.conv, seq: ack.seq }, { ref: `r${i}`, conv: w.general, seq: i });
    assert.equal(committed.get(ack.seq), 1, 'the row is committed when the ack arrives');
  }
  for (const c of [a2, bob]) {
    const got: Msg[] = [];
    for (let i = 1; i <= 5; i++) got.push(await c.nextOf('msg'));
    assert.deepEqual(got.map((m) => m.seq), [1, 2, 3, 4, 5]);
    assert.equal(Buffer.from(got[2].body, 'base64').toString(), 'hello 3');
    assert.equal(got[0].sender, w.alice.user.id);
    assert.equal(got[0].senderName, w.alice.user.username);
  }
  // The sending socket gets acks, not its own messages; a non-subscriber gets nothing.
  a1.send({ t: 'ping' });
  await a1.nextOf('pong');
  assert.equal(a1.all.filter((f) => f.t === 'msg').length, 0);
  carol.send({ t: 'ping' });
  await carol.nextOf('pong');
  assert.equal(carol.all.filter((f) => f.t === 'msg').length, 0);
  // The sender's read position is committed with its own message, before the ack.
  assert.equal((await server.store.getLastRead(w.alice.user.id, [w.general])).get(w.general), 5);
});

test('3 clients × 200 concurrent messages: every client sees one gap-free increasing seq sequence', async (t) => {
  const server = await startTestServer({ limits: { messagesPerSecond: 10_000 } });
  t.after(() => server.close());
  const w = await createWorld(server);
  const third = await createSession(server, w.alice.user.id);
  const clients = [await connect(server, w.alice.cookie), await connect(server, w.bob.cookie), await connect(server, third.cookie)];
  t.after(() => Promise.all(clients.map((c) => c.close())));
  for (const c of clients) await c.subscribe(w.group);
  const perClient = 200;
  clients.forEach((c, k) => {
    for (let i = 0; i < perClient; i++) c.send({ t: 'send', ref: `c${k}-${i}`, conv: w.group, body: b64(`${k}:${i}`) });
  });
  for (const c of clients) {
    const seqs = await untilSeqs(c, w.group, 3 * perClient);
    assert.deepEqual(seqs, range(1, 3 * perClient));
    const acks = c.all.filter((f): f is Ack => f.t === 'ack');
    assert.equal(acks.length, perClient);
    const k = clients.indexOf(c);
    assert.deepEqual(acks.map((a) => a.ref), range(0, perClient - 1).map((i) => `c${k}-${i}`), 'a client’s sends are acked in the order sent');
  }
  const stored = await server.store.messagesAfter(w.group, 0, 1000);
  assert.deepEqual(stored.map((m) => m.seq), range(1, 600));
});

test('resume: a client that drops mid-stream and re-subscribes with `since` misses nothing and gets nothing twice', async (t) => {
  const server = await startTestServer({ limits: { messagesPerSecond: 10_000 } });
  t.after(() => server.close());
  const w = await createWorld(server);
  const bob = await connect(server, w.bob.cookie);
  t.after(() => bob.close());
  await bob.subscribe(w.general);
  let alice = await connect(server, w.alice.cookie);
  await alice.subscribe(w.general);

  const total = 900;
  // Bob sends continuously: the first 300 before alice drops, the rest while she reconnects
  // and while her replay (several pages) runs.
  for (let i = 1; i <= 300; i++) bob.send({ t: 'send', ref: `b${i}`, conv: w.general, body: b64(`m${i}`) });
  const before = await untilSeqs(alice, w.general, 120);
  alice.ws.terminate();
  await alice.closed;
  const last = before[before.length - 1];
  assert.deepEqual(before, range(1, last));

  await untilSeqs(bob, w.general, 300);
  for (let i = 301; i <= 600; i++) bob.send({ t: 'send', ref: `b${i}`, conv: w.general, body: b64(`m${i}`) });
  alice = await connect(server, w.alice.cookie);
  t.after(() => alice.close());
  alice.send({ t: 'sub', conv: w.general, since: last });
  for (let i = 601; i <= total; i++) bob.send({ t: 'send', ref: `b${i}`, conv: w.general, body: b64(`m${i}`) });

  const subscribed = await alice.nextOf('subscribed', undefined, 10_000);
  assert.ok(subscribed.head >= last);
  const after = await untilSeqs(alice, w.general, total - last);
  assert.deepEqual(after, range(last + 1, total), 'no gap, no duplicate, in order');
  const bodies = alice.all.filter((f): f is Msg => f.t === 'msg').map((m) => Buffer.from(m.body, 'base64').toString());
  assert.equal(bodies[0], `m${last + 1}`);
  // `subscribed` comes after every replayed message it covers.
  const idx = alice.all.findIndex((f) => f.t === 'subscribed');
  const replayed = alice.all.slice(0, idx).filter((f) => f.t === 'msg').length;
  assert.ok(replayed >= subscribed.head - last, 'everything up to head arrived before `subscribed`');
});

test('sub with no `since` replays the whole history in order, then `subscribed` with the head', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const w = await createWorld(server);
  for (let i = 1; i <= 600; i++) await server.store.appendMessage({ convId: w.dm, senderId: w.bob.user.id, ts: i, body: Buffer.from(`h${i}`) });
  const alice = await connect(server, w.alice.cookie);
  t.after(() => alice.close());
  const { messages, head } = await alice.subscribe(w.dm);
  assert.equal(head, 600);
  assert.deepEqual(messages.map((m) => m.seq), range(1, 600));
  assert.equal(messages[599].senderName, w.bob.user.username);
  assert.equal(Buffer.from(messages[41].body, 'base64').toString(), 'h42');
  const tail = await alice.subscribe(w.dm, 600);
  assert.deepEqual(tail, { messages: [], head: 600 });
});

test('typing is relayed to the other users’ subscribers, rate-limited, and never stored', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const w = await createWorld(server);
  const a1 = await connect(server, w.alice.cookie);
  const a2 = await connect(server, (await createSession(server, w.alice.user.id)).cookie);
  const bob = await connect(server, w.bob.cookie);
  t.after(() => Promise.all([a1, a2, bob].map((c) => c.close())));
  for (const c of [a1, a2, bob]) await c.subscribe(w.group);

  a1.send({ t: 'typing', conv: w.group });
  a1.send({ t: 'typing', conv: w.group });
  a1.send({ t: 'send', ref: 'x', conv: w.group, body: b64('done typing') });
  const typing = await bob.nextOf('typing');
  assert.deepEqual(typing, { t: 'typing', conv: w.group, user: w.alice.user.id, username: w.alice.user.username });
  await bob.nextOf('msg');
  assert.equal(bob.all.filter((f) => f.t === 'typing').length, 1, 'the second typing within the interval was dropped');
  await a2.nextOf('msg');
  assert.equal(a2.all.filter((f) => f.t === 'typing').length, 0, 'not echoed to the typist’s own sockets');
  const stored = await server.store.messagesAfter(w.group, 0, 10);
  assert.equal(stored.length, 1, 'only the real message is stored');

  // Typing in a conversation you are not subscribed to is refused like any unknown conversation.
  const carol = await connect(server, w.carol.cookie);
  t.after(() => carol.close());
  carol.send({ t: 'typing', conv: w.group });
  assert.equal((await carol.nextOf('error')).code, 'NOT_FOUND');
});

test('presence: online when a user’s first socket connects, offline when the last leaves', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const w = await createWorld(server);
  const watcher = await connect(server, w.carol.cookie);
  t.after(() => watcher.close());
  const b1 = await connect(server, w.bob.cookie);
  const isBob = (p: { user: string }): boolean => p.user === w.bob.user.id;
  assert.deepEqual(await watcher.nextOf('presence', isBob), { t: 'presence', user: w.bob.user.id, online: true });
  const b2 = await connect(server, (await createSession(server, w.bob.user.id)).cookie);
  await b1.close();
  await b2.close();
  const offline = await watcher.nextOf('presence', isBob);
  assert.deepEqual(offline, { t: 'presence', user: w.bob.user.id, online: false });
  assert.equal(watcher.all.filter((f) => f.t === 'presence' && isBob(f)).length, 2, 'one online and one offline, not one per socket');
  assert.equal(server.app.deps.hub.isOnline(w.bob.user.id), false);
});

test('read: stored, clamped to the head, and synced to the user’s other sockets', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const w = await createWorld(server);
  for (let i = 1; i <= 3; i++) await server.store.appendMessage({ convId: w.dm, senderId: w.bob.user.id, ts: i, body: Buffer.from('x') });
  const a1 = await connect(server, w.alice.cookie);
  const a2 = await connect(server, (await createSession(server, w.alice.user.id)).cookie);
  t.after(() => Promise.all([a1, a2].map((c) => c.close())));
  a1.send({ t: 'read', conv: w.dm, seq: 2 });
  assert.deepEqual(await a2.nextOf('read'), { t: 'read', conv: w.dm, seq: 2 });
  assert.equal((await server.store.getLastRead(w.alice.user.id, [w.dm])).get(w.dm), 2);
  a1.send({ t: 'read', conv: w.dm, seq: 999 });
  assert.deepEqual(await a2.nextOf('read'), { t: 'read', conv: w.dm, seq: 3 });
  a1.send({ t: 'ping' });
  await a1.nextOf('pong');
  assert.equal(a1.all.filter((f) => f.t === 'read').length, 0, 'not echoed to the socket that sent it');
  a1.send({ t: 'read', conv: w.general.replace(/^./, 'Z') + 'nope', seq: 1 });
  assert.equal((await a1.nextOf('error')).code, 'NOT_FOUND');
});

test('unsub stops deliveries to that socket only', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const w = await createWorld(server);
  const alice = await connect(server, w.alice.cookie);
  const bob = await connect(server, w.bob.cookie);
  t.after(() => Promise.all([alice, bob].map((c) => c.close())));
  await alice.subscribe(w.general);
  await bob.subscribe(w.general);
  bob.send({ t: 'unsub', conv: w.general });
  bob.send({ t: 'ping' });
  await bob.nextOf('pong');
  alice.send({ t: 'send', ref: 'a', conv: w.general, body: b64('hi') });
  await alice.nextOf('ack');
  bob.send({ t: 'ping' });
  await bob.nextOf('pong');
  assert.equal(bob.all.filter((f) => f.t === 'msg').length, 0);
});

test('live messages committed during a replay are held, de-duplicated by seq, and delivered after it', async (t) => {
  const server = await startTestServer({ limits: { messagesPerSecond: 10_000 } });
  t.after(() => server.close());
  const w = await createWorld(server);
  for (let i = 1; i <= 300; i++) await server.store.appendMessage({ convId: w.general, senderId: w.bob.user.id, ts: i, body: Buffer.from(`h${i}`) });
  const bob = await connect(server, w.bob.cookie);
  const alice = await connect(server, w.alice.cookie);
  t.after(() => Promise.all([alice, bob].map((c) => c.close())));
  let bobAcks = 0;
  const bobSends = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) bob.send({ t: 'send', ref: `live${bobAcks + i}`, conv: w.general, body: b64('live') });
    for (let i = 0; i < n; i++) await bob.nextOf('ack');
    bobAcks += n;
  };
  // The real store, made to let live traffic in between replay pages (as a networked store would):
  // after the first page is read, 10 messages commit that the page does not contain but the next
  // page does (duplicates to drop); after the last page, 10 more that only the held frames carry.
  const store = server.store;
  const messagesAfter = store.messagesAfter.bind(store);
  let calls = 0;
  store.messagesAfter = async (conv, after, limit) => {
    const page = await messagesAfter(conv, after, limit);
    if (conv === w.general && calls++ < 2) await bobSends(10);
    return page;
  };
  t.after(() => {
    store.messagesAfter = messagesAfter;
  });
  const { messages, head } = await alice.subscribe(w.general);
  assert.equal(calls, 2, 'two replay pages');
  assert.deepEqual(messages.map((m) => m.seq), range(1, 320));
  assert.equal(head, 320);
});
