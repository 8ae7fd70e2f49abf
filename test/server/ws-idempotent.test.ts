// Sends over a real socket are idempotent per (conversation, ref) across a reconnect, and the sender's own read position is committed with the message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../helpers/server.ts';
import { api, b64, connect, createWorld } from '../helpers/direct.ts';

interface Summary {
  id: string;
  head: number;
  lastRead: number;
  unread: number;
}

/** The caller's summary of `conv` from GET /api/conversations (over HTTP). */
async function summaryOf(server: Parameters<typeof api>[0], cookie: string, conv: string): Promise<Summary> {
  const res = await api(server, cookie, 'GET', '/api/conversations');
  assert.equal(res.status, 200);
  const list = res.json as { servers: Array<{ channels: Summary[] }>; groups: Summary[]; dms: Summary[] };
  const all = [...list.servers.flatMap((s) => s.channels), ...list.groups, ...list.dms];
  const found = all.find((c) => c.id === conv);
  assert.ok(found, 'the conversation is listed');
  return found;
}

test('a send re-sent with the same ref after a lost ack is stored once, acked with the first seq, published once', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const w = await createWorld(server);
  const bob = await connect(server, w.bob.cookie);
  t.after(() => bob.close());
  await bob.subscribe(w.general);

  const first = await connect(server, w.alice.cookie);
  first.send({ t: 'send', ref: 'retry-1', conv: w.general, body: b64('only once') });
  // Bob's copy proves the commit; the sender's socket drops without the client consuming its ack.
  const published = await bob.nextOf('msg');
  assert.equal(published.seq, 1);
  first.ws.terminate();
  await first.closed;

  const again = await connect(server, w.alice.cookie);
  t.after(() => again.close());
  again.send({ t: 'send', ref: 'retry-1', conv: w.general, body: b64('only once') });
  const ack = await again.nextOf('ack');
  assert.deepEqual({ ref: ack.ref, conv: ack.conv, seq: ack.seq, ts: ack.ts }, { ref: 'retry-1', conv: w.general, seq: 1, ts: published.ts });

  // A new ref is a new message, and bob's stream shows it right after the first: no second copy in between.
  again.send({ t: 'send', ref: 'retry-2', conv: w.general, body: b64('second') });
  assert.equal((await again.nextOf('ack')).seq, 2);
  assert.equal((await bob.nextOf('msg')).seq, 2);
  assert.deepEqual(bob.all.filter((f) => f.t === 'msg').map((f) => (f as { seq: number }).seq), [1, 2], 'subscribers saw the first send once');
  const stored = await server.store.messagesAfter(w.general, 0, 10);
  assert.deepEqual(stored.map((m) => Buffer.from(m.body).toString()), ['only once', 'second']);
});

test('right after a send is acked, GET /api/conversations shows the sender no unread (others still see it unread)', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const w = await createWorld(server);
  await server.store.appendMessage({ convId: w.dm, senderId: w.bob.user.id, ts: Date.now(), body: new TextEncoder().encode('from bob') });
  assert.equal((await summaryOf(server, w.alice.cookie, w.dm)).unread, 1);

  const alice = await connect(server, w.alice.cookie);
  t.after(() => alice.close());
  alice.send({ t: 'send', ref: 'a1', conv: w.dm, body: b64('reply') });
  const ack = await alice.nextOf('ack');
  assert.equal(ack.seq, 2);
  // Sending implies having read everything before it, as the web client marks it.
  const mine = await summaryOf(server, w.alice.cookie, w.dm);
  assert.deepEqual({ head: mine.head, lastRead: mine.lastRead, unread: mine.unread }, { head: 2, lastRead: 2, unread: 0 });
  // Only the sender: bob's position did not move (his own message was stored without senderHasRead).
  assert.equal((await summaryOf(server, w.bob.cookie, w.dm)).lastRead, 0);

  // A client `read` frame goes through the same commit; frames of one socket run in order, so the pong follows it.
  const bob = await connect(server, w.bob.cookie);
  t.after(() => bob.close());
  bob.send({ t: 'read', conv: w.dm, seq: 2 });
  bob.send({ t: 'ping' });
  await bob.nextOf('pong');
  assert.equal((await summaryOf(server, w.bob.cookie, w.dm)).unread, 0);
});
