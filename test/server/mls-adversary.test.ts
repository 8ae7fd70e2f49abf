// Server-as-adversary hook at the transport level: injected device, swapped KeyPackage, replayed / reordered log, dropped Welcome — and that only AppDeps (never config or HTTP) turns it on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api } from '../helpers/client.ts';
import { createUser } from '../helpers/direct.ts';
import { ConfigSchema } from '../../src/config/schema.ts';
import { dropWelcomes, injectDevice, reorderLog, replayLog, swapKeyPackages, type MlsAdversary } from '../../src/server/mls/adversary.ts';
import { startTestServer } from '../helpers/server.ts';
import { b64u, bytesOf, registerDevice, startMlsServer, uploadPackages, fakeCommit, tagOf } from './mls-helpers.ts';

async function world(adversary: MlsAdversary) {
  const s = await startMlsServer({ adversary });
  const [alice, bob, mallory] = await Promise.all(['alice', 'bob', 'mallory'].map((n) => createUser(s, n)));
  const devices = await Promise.all([alice, bob, mallory].map((p) => registerDevice(s, p)));
  const conv: string = (await api(s, alice.cookie, 'POST', '/api/groups', { name: 'G', members: ['bob'] })).body.id;
  await api(s, alice.cookie, 'POST', `/api/mls/groups/${conv}`);
  return { s, alice, bob, mallory, devices, conv };
}

test('adversary: a device with a bogus certificate appears in a listing', async (t) => {
  const adversary: MlsAdversary = {};
  const { s, alice, bob, devices } = await world(adversary);
  t.after(() => s.close());
  const honest = await api(s, alice.cookie, 'GET', `/api/mls/users/${bob.user.id}/devices`);
  assert.deepEqual(honest.body.devices.map((d: any) => d.id), [devices[1].id]);
  const fake = { id: 'injected', userId: bob.user.id, certificate: b64u('no valid signature') };
  adversary.devices = injectDevice(bob.user.id, fake);
  const lied = await api(s, alice.cookie, 'GET', `/api/mls/users/${bob.user.id}/devices`);
  assert.deepEqual(lied.body.devices.map((d: any) => d.id), [devices[1].id, 'injected']);
  assert.equal(bytesOf(lied.body.devices[1].certificate), 'no valid signature');
  // Only the targeted user's listings are rewritten.
  assert.deepEqual((await api(s, bob.cookie, 'GET', `/api/mls/users/${alice.user.id}/devices`)).body.devices.map((d: any) => d.id), [devices[0].id]);
});

test('adversary: a claimed KeyPackage is swapped for another user’s', async (t) => {
  const adversary: MlsAdversary = {};
  const { s, alice, bob, mallory } = await world(adversary);
  t.after(() => s.close());
  await uploadPackages(s, bob, 'bob', 2);
  await uploadPackages(s, mallory, 'mallory', 1);
  const mallorys = (await api(s, alice.cookie, 'POST', `/api/mls/users/${mallory.user.id}/key-packages/claim`, {})).body.packages[0].keyPackage;
  adversary.keyPackages = swapKeyPackages(bob.user.id, mallorys);
  const claimed = await api(s, alice.cookie, 'POST', `/api/mls/users/${bob.user.id}/key-packages/claim`, {});
  assert.equal(bytesOf(claimed.body.packages[0].keyPackage), 'mallory-0');
  delete adversary.keyPackages;
  const next = await api(s, alice.cookie, 'POST', `/api/mls/users/${bob.user.id}/key-packages/claim`, {});
  assert.equal(bytesOf(next.body.packages[0].keyPackage), 'bob-1', 'the swapped-out package was consumed all the same');
});

test('adversary: the handshake log is replayed or reordered, in GET and in a 409', async (t) => {
  const adversary: MlsAdversary = {};
  const { s, alice, bob, conv } = await world(adversary);
  t.after(() => s.close());
  for (let e = 0; e < 3; e++) await api(s, alice.cookie, 'POST', `/api/mls/groups/${conv}/commits`, { epoch: e, commit: fakeCommit(conv, e, `c${e}`) });
  const read = async () => (await api(s, bob.cookie, 'GET', `/api/mls/groups/${conv}/log`)).body.entries.map((e: any) => tagOf(e.commit));
  assert.deepEqual(await read(), ['c0', 'c1', 'c2']);
  adversary.log = replayLog;
  assert.deepEqual(await read(), ['c0', 'c1', 'c2', 'c0', 'c1', 'c2']);
  adversary.log = reorderLog;
  assert.deepEqual(await read(), ['c2', 'c1', 'c0']);
  const stale = await api(s, bob.cookie, 'POST', `/api/mls/groups/${conv}/commits`, { epoch: 1, commit: fakeCommit(conv, 1, 'late') });
  assert.equal(stale.status, 409);
  assert.deepEqual(stale.body.error.commits.map((e: any) => tagOf(e.commit)), ['c2', 'c1']);
  // The stored log itself is untouched.
  assert.deepEqual((await s.store.mls.commitsFrom(conv, 0, 10)).map((c) => tagOf(c.data)), ['c0', 'c1', 'c2']);
});

test('adversary: a Welcome is dropped; it is still stored, so the drop is the server’s doing', async (t) => {
  const adversary: MlsAdversary = { welcomes: dropWelcomes };
  const { s, alice, bob, devices, conv } = await world(adversary);
  t.after(() => s.close());
  await api(s, alice.cookie, 'POST', `/api/mls/groups/${conv}/commits`, { epoch: 0, commit: fakeCommit(conv, 0, 'add'), welcome: { bytes: b64u('w'), devices: [devices[1].id] } });
  assert.deepEqual((await api(s, bob.cookie, 'GET', '/api/mls/welcomes')).body.welcomes, []);
  assert.equal((await s.store.mls.welcomesFor(devices[1].id)).length, 1);
  delete adversary.welcomes;
  assert.equal((await api(s, bob.cookie, 'GET', '/api/mls/welcomes')).body.welcomes.length, 1);
});

test('adversary: no config key can set it, and a normal server behaves honestly', async (t) => {
  assert.doesNotMatch(JSON.stringify(ConfigSchema), /advers/i);
  const s = await startTestServer();
  t.after(() => s.close());
  const alice = await createUser(s, 'alice');
  const bob = await createUser(s, 'bob');
  const bobDevice = await registerDevice(s, bob);
  const listed = await api(s, alice.cookie, 'GET', `/api/mls/users/${bob.user.id}/devices`);
  assert.deepEqual(listed.body.devices.map((d: any) => d.id), [bobDevice.id]);
});
