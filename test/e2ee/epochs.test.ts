// E2eeCodec across many epochs: an offline member catches up over 12 commits and reads everything after a reload (resumed from the vault, no new Welcome); concurrent commits on one epoch: exactly one wins, both converge, no fork.
import test from 'node:test';
import assert from 'node:assert/strict';
import { api, registerInvited, setupOwner } from '../helpers/client.ts';
import { barrier, closeAll, firstDevice, online, read, reload, send, settle, startE2eeServer, texts, traffic, type Client } from './helpers.ts';

/** Rotate after every envelope, so each send is preceded by a commit. */
const EVERY_MESSAGE = { rotation: { maxMessages: 1, maxAgeMs: 7 * 24 * 3600 * 1000 } };

async function logLength(server: Parameters<typeof api>[0], c: Client, conv: string): Promise<number> {
  const res = await api(server, c.who.cookie, 'GET', `/api/mls/groups/${conv}`);
  return res.body.headSeq as number;
}

test('an offline member catches up across 12 commits and reads everything', async (t) => {
  const server = await startE2eeServer();
  t.after(() => server.close());
  const alice = await online(server, await firstDevice(server, await setupOwner(server, 'alice'), EVERY_MESSAGE));
  const bob = await online(server, await firstDevice(server, await registerInvited(server, 'bob')));
  let dave = await online(server, await firstDevice(server, await registerInvited(server, 'dave')));
  const group = (await api(server, alice.who.cookie, 'POST', '/api/groups', { name: 'g', members: ['bob', 'dave'] })).body.id as string;
  await send(alice, group, 'm0');
  await settle(alice, bob, dave);
  assert.deepEqual(texts(await read(server, dave, group)), ['m0']);
  const joinedAt = await dave.codec.epoch(group);
  dave.codec.close();
  await dave.ws?.close();

  const sent = ['m0'];
  for (let i = 1; i <= 12; i++) {
    sent.push(`m${i}`);
    await send(alice, group, `m${i}`);
    if (i % 4 === 0) {
      sent.push(`bob${i}`);
      await send(bob, group, `bob${i}`);
    }
  }
  await settle(alice, bob);
  const aliceEpoch = await alice.codec.epoch(group);
  assert.ok(aliceEpoch! - joinedAt! >= 12, `at least 12 commits while dave was away (epoch ${joinedAt} → ${aliceEpoch})`);

  dave = await reload(server, dave);
  t.after(() => closeAll(alice, bob, dave));
  assert.equal(await dave.codec.isJoined(group), true, 'resumed from the vault without a Welcome');
  assert.equal((await api(server, dave.who.cookie, 'GET', '/api/mls/welcomes')).body.welcomes.length, 0);
  await online(server, dave);
  await settle(alice, bob, dave);
  assert.equal(await dave.codec.epoch(group), aliceEpoch);
  assert.deepEqual(texts(await read(server, dave, group)), sent);
  await send(dave, group, 'dave is back');
  await settle(alice, bob, dave);
  assert.deepEqual(texts(await read(server, alice, group)).at(-1), 'dave is back');
});

test('concurrent commits on one epoch: one wins, the other rebuilds, no fork', async (t) => {
  const server = await startE2eeServer();
  t.after(() => server.close());
  const alice = await online(server, await firstDevice(server, await setupOwner(server, 'alice'), EVERY_MESSAGE));
  const bob = await online(server, await firstDevice(server, await registerInvited(server, 'bob'), EVERY_MESSAGE));
  const carol = await online(server, await firstDevice(server, await registerInvited(server, 'carol')));
  t.after(() => closeAll(alice, bob, carol));
  const group = (await api(server, alice.who.cookie, 'POST', '/api/groups', { name: 'g', members: ['bob'] })).body.id as string;
  await send(alice, group, 'a1');
  await settle(alice, bob);
  await send(bob, group, 'b1');
  await settle(alice, bob);
  const epoch = await alice.codec.epoch(group);
  assert.equal(await bob.codec.epoch(group), epoch);

  await t.test('two rotations at once', async () => {
    const before = await logLength(server, alice, group);
    // Both have used their epoch: both build a self-update on the same epoch, and both posts are
    // held until the other is ready too.
    traffic.beforeCommit = barrier(2);
    traffic.commitStatuses.length = 0;
    await Promise.all([send(alice, group, 'a2'), send(bob, group, 'b2')]);
    traffic.beforeCommit = null;
    await settle(alice, bob);
    assert.deepEqual([...traffic.commitStatuses].sort(), [201, 409], 'one commit won, the other lost the race');
    const log = (await api(server, alice.who.cookie, 'GET', `/api/mls/groups/${group}/log?fromEpoch=${epoch}`)).body.entries;
    assert.equal(log.filter((e: { epoch: number }) => e.epoch === epoch).length, 1, 'exactly one commit on that epoch');
    assert.ok((await logLength(server, alice, group)) - before <= 2);
    assert.equal(await alice.codec.epoch(group), await bob.codec.epoch(group), 'both on the same epoch');
    for (const c of [alice, bob]) assert.deepEqual(texts(await read(server, c, group)).sort(), ['a1', 'a2', 'b1', 'b2']);
  });

  await t.test('two members add the same newcomer at once: one add commit, one leaf', async () => {
    const before = await logLength(server, alice, group);
    traffic.beforeCommit = barrier(2);
    traffic.commitStatuses.length = 0;
    assert.equal((await api(server, alice.who.cookie, 'POST', `/api/groups/${group}/members`, { username: 'carol' })).status, 204);
    await Promise.all([alice.codec.sync(group), bob.codec.sync(group)]);
    traffic.beforeCommit = null;
    await settle(alice, bob, carol);
    assert.deepEqual([...traffic.commitStatuses].sort(), [201, 409], 'both built the add; the loser found carol already in');
    assert.equal((await logLength(server, alice, group)) - before, 1, 'one commit added carol');
    const roster = await alice.codec.roster(group);
    assert.equal(roster.filter((m) => m.userId === carol.who.user.id).length, 1);
    assert.deepEqual(
      (await bob.codec.roster(group)).map((m) => m.deviceId).sort(),
      roster.map((m) => m.deviceId).sort(),
    );
    await send(carol, group, 'c1');
    await settle(alice, bob, carol);
    for (const c of [alice, bob]) assert.equal(texts(await read(server, c, group)).at(-1), 'c1');
  });
});
