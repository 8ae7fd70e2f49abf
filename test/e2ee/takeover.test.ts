// E2eeCodec and a group left at epoch 0 by a creator that went away before its first commit: another member takes it over; when two do at once, one wins the first commit, the other drops its copy and joins by Welcome.
import test from 'node:test';
import assert from 'node:assert/strict';
import { api, registerInvited, setupOwner } from '../helpers/client.ts';
import { barrier, closeAll, firstDevice, online, read, send, settle, startE2eeServer, texts, traffic } from './helpers.ts';

const TAKE_OVER_AT_ONCE = { abandonedGroupMs: 0 };

test('an abandoned epoch-0 group is taken over, and two takers never fork it', async (t) => {
  const server = await startE2eeServer();
  t.after(() => server.close());
  const alice = await online(server, await firstDevice(server, await setupOwner(server, 'alice'), TAKE_OVER_AT_ONCE));
  const bob = await online(server, await firstDevice(server, await registerInvited(server, 'bob'), TAKE_OVER_AT_ONCE));
  const carol = await online(server, await firstDevice(server, await registerInvited(server, 'carol'), TAKE_OVER_AT_ONCE));
  t.after(() => closeAll(alice, bob, carol));

  await t.test('one member takes over', async () => {
    const dm = (await api(server, alice.who.cookie, 'POST', '/api/dms', { username: 'bob' })).body.id as string;
    // Alice's browser created the group on the server and vanished before committing.
    assert.equal((await api(server, alice.who.cookie, 'POST', `/api/mls/groups/${dm}`)).status, 201);
    await send(bob, dm, 'bob took over');
    await settle(alice, bob);
    assert.deepEqual(texts(await read(server, alice, dm)), ['bob took over']);
  });

  await t.test('two members take over at once: one wins the first commit', async () => {
    const group = (await api(server, alice.who.cookie, 'POST', '/api/groups', { name: 'g', members: ['bob', 'carol'] })).body.id as string;
    assert.equal((await api(server, alice.who.cookie, 'POST', `/api/mls/groups/${group}`)).status, 201);
    traffic.beforeCommit = barrier(2);
    traffic.commitStatuses.length = 0;
    const results = await Promise.allSettled([bob.codec.encode(group, { kind: 'text', text: 'b' }), carol.codec.encode(group, { kind: 'text', text: 'c' })]);
    traffic.beforeCommit = null;
    assert.deepEqual([...traffic.commitStatuses].sort(), [201, 409]);
    const refused = results.filter((r) => r.status === 'rejected');
    assert.equal(refused.length, 1, 'the loser is told to wait for the winner’s Welcome');
    assert.equal((refused[0] as PromiseRejectedResult).reason.code, 'waiting_for_keys');
    await settle(alice, bob, carol);
    for (const c of [alice, bob, carol]) assert.equal(await c.codec.isJoined(group), true, `${c.who.user.username} is in`);
    const epochs = await Promise.all([alice, bob, carol].map((c) => c.codec.epoch(group)));
    assert.equal(new Set(epochs).size, 1, 'one group, one epoch');
    await send(alice, group, 'one group');
    await settle(alice, bob, carol);
    for (const c of [bob, carol]) assert.equal(texts(await read(server, c, group)).at(-1), 'one group');
  });
});
