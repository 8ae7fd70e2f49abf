// Who may sub/send over the socket, for channels, groups and DMs: members may; non-members, kicked, banned and departed users get NOT_FOUND exactly like a nonexistent conversation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../helpers/server.ts';
import { api, b64, connect, createSession, createWorld, type WsClient } from '../helpers/direct.ts';
import type { ServerFrame } from '../../src/shared/protocol.ts';

const NONEXISTENT = 'no-such-conversation-0000';

/** The error a `sub` and a `send` to `conv` get, with the conversation id blanked for comparison. */
async function refusals(client: WsClient, conv: string): Promise<unknown[]> {
  const out: unknown[] = [];
  client.send({ t: 'sub', conv });
  out.push(await client.nextOf('error', (e) => e.conv === conv));
  client.send({ t: 'send', ref: 'probe', conv, body: b64('x') });
  out.push(await client.nextOf('error', (e) => e.ref === 'probe'));
  return out.map((e) => ({ ...(e as object), conv: '<conv>' }));
}

/** How many `msg` frames of `conv` reached `client`, counting everything the server wrote before a fresh pong. */
async function messagesSeen(client: WsClient, conv: string): Promise<number> {
  client.send({ t: 'ping' });
  await client.nextOf('pong');
  return client.all.filter((f: ServerFrame) => f.t === 'msg' && f.conv === conv).length;
}

test('members may sub and send in channels, groups and DMs; outsiders get the same NOT_FOUND as a nonexistent id', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const w = await createWorld(server);
  const bob = await connect(server, w.bob.cookie);
  const carol = await connect(server, w.carol.cookie);
  t.after(() => Promise.all([bob, carol].map((c) => c.close())));
  const expected = await refusals(carol, NONEXISTENT);
  assert.deepEqual(
    expected.map((e) => (e as { code: string }).code),
    ['NOT_FOUND', 'NOT_FOUND'],
  );
  for (const [kind, conv] of [['channel', w.general], ['group', w.group], ['dm', w.dm]] as const) {
    await bob.subscribe(conv);
    bob.send({ t: 'send', ref: kind, conv, body: b64(kind) });
    assert.equal((await bob.nextOf('ack', (a) => a.ref === kind)).conv, conv);
    assert.deepEqual(await refusals(carol, conv), expected, `${kind}: a non-member's error matches a nonexistent conversation's`);
    assert.equal(await messagesSeen(carol, conv), 0);
  }
});

for (const action of ['kick', 'ban'] as const) {
  test(`a user ${action === 'kick' ? 'kicked' : 'banned'} mid-subscription is told, stops receiving, and is refused like a stranger`, async (t) => {
    const server = await startTestServer();
    t.after(() => server.close());
    const w = await createWorld(server);
    const alice = await connect(server, w.alice.cookie);
    const bob1 = await connect(server, w.bob.cookie);
    const bob2 = await connect(server, (await createSession(server, w.bob.user.id)).cookie);
    t.after(() => Promise.all([alice, bob1, bob2].map((c) => c.close())));
    for (const c of [alice, bob1, bob2]) await c.subscribe(w.general);
    alice.send({ t: 'send', ref: 'before', conv: w.general, body: b64('before') });
    await bob1.nextOf('msg');

    const res = await api(server, w.alice.cookie, 'POST', `/api/servers/${w.serverId}/${action}`, { userId: w.bob.user.id });
    assert.equal(res.status, 204);
    for (const c of [bob1, bob2]) assert.deepEqual(await c.nextOf('conversations', (f) => f.removed !== undefined), { t: 'conversations', removed: w.general });

    alice.send({ t: 'send', ref: 'after', conv: w.general, body: b64('after') });
    await alice.nextOf('ack', (a) => a.ref === 'after');
    for (const c of [bob1, bob2]) assert.equal(await messagesSeen(c, w.general), 1, 'only the message from before');
    const expected = await refusals(bob1, NONEXISTENT);
    assert.deepEqual(await refusals(bob1, w.general), expected);
    // The DM and group are untouched by a server kick or ban.
    await bob1.subscribe(w.dm);
  });
}

test('a user who leaves a group loses it on every socket at once', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const w = await createWorld(server);
  const alice = await connect(server, w.alice.cookie);
  const bob1 = await connect(server, w.bob.cookie);
  const bob2 = await connect(server, (await createSession(server, w.bob.user.id)).cookie);
  t.after(() => Promise.all([alice, bob1, bob2].map((c) => c.close())));
  for (const c of [alice, bob1, bob2]) await c.subscribe(w.group);
  const res = await api(server, w.bob.cookie, 'POST', `/api/groups/${w.group}/leave`);
  assert.equal(res.status, 204);
  await bob2.nextOf('conversations', (f) => f.removed === w.group);
  alice.send({ t: 'send', ref: 'a', conv: w.group, body: b64('still there?') });
  await alice.nextOf('ack');
  assert.equal(await messagesSeen(bob2, w.group), 0);
  assert.deepEqual(await refusals(bob1, w.group), await refusals(bob1, NONEXISTENT));
});

test('access is re-checked on every send, even without a hub revoke', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const w = await createWorld(server);
  const bob = await connect(server, w.bob.cookie);
  t.after(() => bob.close());
  bob.send({ t: 'send', ref: 'one', conv: w.group, body: b64('1') });
  await bob.nextOf('ack');
  // Straight in the store: the hub is not told, so only the per-send check can stop the next one.
  await server.store.removeConversationMember(w.group, w.bob.user.id);
  bob.send({ t: 'send', ref: 'two', conv: w.group, body: b64('2') });
  const error = await bob.nextOf('error');
  assert.deepEqual({ code: error.code, ref: error.ref }, { code: 'NOT_FOUND', ref: 'two' });
  assert.equal((await server.store.messagesAfter(w.group, 0, 10)).length, 1);
});
