// E2eeCodec membership follows the conversation: leave a group, re-add, kick from a server, a revoked device; a removed member cannot open anything sent afterwards, and pending removals are resolved.
import test from 'node:test';
import assert from 'node:assert/strict';
import { api, registerInvited, setupOwner } from '../helpers/client.ts';
import { aliceBobCarol, closeAll, firstDevice, online, read, restoredDevice, send, settle, startE2eeServer, stored, texts } from './helpers.ts';

test('leave, re-add and kick: removed members cannot read what follows', async (t) => {
  const server = await startE2eeServer();
  t.after(() => server.close());
  const all = await aliceBobCarol(t, server);
  const [alice, bob, carol] = all;
  const group = (await api(server, alice.who.cookie, 'POST', '/api/groups', { name: 'g', members: ['bob', 'carol'] })).body.id as string;

  await send(alice, group, 'all three');
  await settle(...all);
  assert.deepEqual(texts(await read(server, carol, group)), ['all three']);
  const usersIn = async (c: (typeof all)[number]) => [...new Set((await c.codec.roster(group)).map((m) => m.userId))].sort();

  await t.test('carol leaves: her leaf goes, and she cannot open what is sent next', async () => {
    assert.equal((await api(server, carol.who.cookie, 'POST', `/api/groups/${group}/leave`)).status, 204);
    await settle(...all);
    assert.deepEqual(await usersIn(alice), [alice.who.user.id, bob.who.user.id].sort());
    assert.deepEqual(await usersIn(bob), await usersIn(alice));
    const state = (await api(server, alice.who.cookie, 'GET', `/api/mls/groups/${group}`)).body;
    const removal = state.pendingRemovals.find((p: { userId: string }) => p.userId === carol.who.user.id);
    assert.ok(removal?.resolvedBySeq, 'the removal commit named carol in resolvesRemovals');
    await send(bob, group, 'after carol left');
    await settle(...all);
    const after = (await stored(server, alice, group)).at(-1)!;
    const attempt = await carol.codec.decode(group, after);
    assert.equal(attempt.ok, false, 'carol cannot open a message sent after she left');
    assert.deepEqual(texts(await read(server, alice, group)), ['all three', 'after carol left']);
    assert.equal(await carol.codec.isJoined(group), false);
  });

  await t.test('carol is added back: fresh leaf, reads new messages, not the ones sent while she was out', async () => {
    assert.equal((await api(server, bob.who.cookie, 'POST', `/api/groups/${group}/members`, { username: 'carol' })).status, 204);
    await settle(...all);
    assert.equal(await carol.codec.isJoined(group), true);
    assert.deepEqual(await usersIn(carol), [alice.who.user.id, bob.who.user.id, carol.who.user.id].sort());
    await send(carol, group, 'back again');
    await settle(...all);
    const seen = texts(await read(server, carol, group));
    assert.deepEqual(seen, ['all three', '!unknown_epoch', 'back again']);
    for (const c of [alice, bob]) assert.deepEqual(texts(await read(server, c, group)), ['all three', 'after carol left', 'back again']);
  });

  await t.test('a server kick removes bob from the channel group; later channel messages do not open for him', async () => {
    const list = (await api(server, alice.who.cookie, 'GET', '/api/conversations')).body;
    const serverId = list.servers[0].id as string;
    const channel = list.servers[0].channels[0].id as string;
    await send(bob, channel, 'bob in general');
    await settle(...all);
    assert.deepEqual(texts(await read(server, carol, channel)), ['bob in general']);
    assert.equal((await api(server, alice.who.cookie, 'POST', `/api/servers/${serverId}/kick`, { userId: bob.who.user.id })).status, 204);
    await settle(...all);
    const members = [...new Set((await alice.codec.roster(channel)).map((m) => m.userId))].sort();
    assert.deepEqual(members, [alice.who.user.id, carol.who.user.id].sort());
    await send(carol, channel, 'after the kick');
    await settle(...all);
    const last = (await stored(server, alice, channel)).at(-1)!;
    const attempt = await bob.codec.decode(channel, last);
    assert.equal(attempt.ok, false);
    assert.deepEqual(texts(await read(server, alice, channel)), ['bob in general', 'after the kick']);
  });
});

test('a revoked device is removed from the groups of its user', async (t) => {
  const server = await startE2eeServer();
  t.after(() => server.close());
  const alice = await online(server, await firstDevice(server, await setupOwner(server, 'alice')));
  const bob = await online(server, await firstDevice(server, await registerInvited(server, 'bob')));
  const dm = (await api(server, alice.who.cookie, 'POST', '/api/dms', { username: 'bob' })).body.id as string;
  await send(alice, dm, 'one');
  const bob2 = await online(server, await restoredDevice(server, bob, bob.recoveryKey!));
  t.after(() => closeAll(alice, bob, bob2));
  // No explicit check: certifying the new device announces it (mls.members) and alice's engine adds it.
  await settle(alice, bob, bob2);
  assert.equal(await bob2.codec.isJoined(dm), true, 'bob’s new device was added');
  assert.equal((await alice.codec.roster(dm)).length, 3);
  await bob.keys.removeDevice(bob2.codec.deviceId);
  await settle(alice, bob, bob2);
  const roster = await alice.codec.roster(dm);
  assert.deepEqual(roster.map((m) => m.deviceId).sort(), [alice.codec.deviceId, bob.codec.deviceId].sort());
});

test('a new member of a server is added to its channel groups as they arrive', async (t) => {
  const server = await startE2eeServer();
  t.after(() => server.close());
  const alice = await online(server, await firstDevice(server, await setupOwner(server, 'alice')));
  const bob = await online(server, await firstDevice(server, await registerInvited(server, 'bob')));
  const channel = (await api(server, alice.who.cookie, 'GET', '/api/conversations')).body.servers[0].channels[0].id as string;
  await send(alice, channel, 'before dave');
  await settle(alice, bob);
  // Dave joins through an invite, then sets up keys: both announce him (mls.members), nobody calls sync.
  const dave = await online(server, await firstDevice(server, await registerInvited(server, 'dave')));
  t.after(() => closeAll(alice, bob, dave));
  await settle(alice, bob, dave);
  assert.equal(await dave.codec.isJoined(channel), true);
  await send(bob, channel, 'welcome dave');
  await settle(alice, bob, dave);
  assert.deepEqual(texts(await read(server, dave, channel)), ['!unknown_epoch', 'welcome dave']);
});
