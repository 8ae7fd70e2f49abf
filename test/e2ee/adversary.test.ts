// E2eeCodec against a lying server (AppDeps.mlsAdversary) and bad directory entries: devices whose certificate does not verify or names someone else, a swapped KeyPackage, dropped Welcomes, replayed and reordered logs — each refused or harmless, and reported.
import test from 'node:test';
import assert from 'node:assert/strict';
import { api, registerInvited, setupOwner } from '../helpers/client.ts';
import { startMlsServer, registerDevice } from '../server/mls-helpers.ts';
import { dropWelcomes, replayLog, reorderLog, type MlsAdversary } from '../../src/server/mls/adversary.ts';
import { generateKeyPackages } from '../../web-client/src/crypto/index.ts';
import { SendRefused } from '../../web-client/src/state/body-codec.ts';
import { toB64Url } from '../../web-client/src/e2ee/b64url.ts';
import { WARNINGS_EVENT } from '../../web-client/src/e2ee/groups/index.ts';
import { closeAll, firstDevice, online, read, reload, send, settle, texts } from './helpers.ts';

test('devices and packages the server should not hand out are refused and shown as warnings', async (t) => {
  const adversary: MlsAdversary = {};
  const server = await startMlsServer({ adversary });
  t.after(() => server.close());
  const alice = await online(server, await firstDevice(server, await setupOwner(server, 'alice')));
  const bob = await online(server, await firstDevice(server, await registerInvited(server, 'bob')));
  const carol = await online(server, await firstDevice(server, await registerInvited(server, 'carol')));
  const mallory = await registerInvited(server, 'mallory');
  t.after(() => closeAll(alice, bob, carol));

  await t.test('a device injected into bob’s listing without a valid certificate', async () => {
    const fake = { id: 'd_fake0000001', userId: bob.who.user.id, certificate: toB64Url(new TextEncoder().encode('not a certificate')) };
    adversary.devices = (userId, devices) => (userId === bob.who.user.id ? [...devices, fake] : devices);
    const warned = new Promise<void>((resolve) => alice.codec.addEventListener(WARNINGS_EVENT, () => resolve(), { once: true }));
    const dm = (await api(server, alice.who.cookie, 'POST', '/api/dms', { username: 'bob' })).body.id as string;
    await send(alice, dm, 'only for bob’s real device');
    await warned;
    await settle(alice, bob);
    const w = alice.codec.warnings.find((x) => x.code === 'invalid_device' && x.deviceId === fake.id);
    assert.ok(w, 'reported as a warning');
    assert.equal(w.userId, bob.who.user.id);
    assert.equal(w.conv, dm);
    assert.match(w.message, /bob/);
    assert.deepEqual((await alice.codec.roster(dm)).map((m) => m.deviceId).sort(), [alice.codec.deviceId, bob.codec.deviceId].sort());
    assert.deepEqual(texts(await read(server, bob, dm)), ['only for bob’s real device']);
    delete adversary.devices;
  });

  await t.test('a second account’s device whose certificate names another user', async () => {
    // Mallory copies carol's real certificate onto her own device entry (the server stores it unchecked).
    const carolCert = (await api(server, carol.who.cookie, 'GET', '/api/mls/devices')).body.devices[0].certificate as string;
    const device = await registerDevice(server, mallory, 'copied');
    assert.equal((await api(server, mallory.cookie, 'PUT', `/api/mls/devices/${device.id}/certificate`, { certificate: carolCert })).status, 200);
    const group = (await api(server, alice.who.cookie, 'POST', '/api/groups', { name: 'g', members: ['carol', 'mallory'] })).body.id as string;
    await send(alice, group, 'hello group');
    await settle(alice, bob, carol);
    const w = alice.codec.warnings.find((x) => x.code === 'invalid_device' && x.deviceId === device.id);
    assert.ok(w);
    assert.match(w.message, /another (user|device)/);
    const roster = await alice.codec.roster(group);
    assert.ok(!roster.some((m) => m.deviceId === device.id));
    assert.deepEqual(texts(await read(server, carol, group)), ['hello group']);
  });

  await t.test('a swapped KeyPackage is refused; bob is added once the server stops lying', async () => {
    const { device } = await carol.keys.engineKeys(carol.who.user.id);
    const [carolPackage] = await generateKeyPackages(device, 1);
    adversary.keyPackages = (userId, packages) => (userId === bob.who.user.id ? packages.map((p) => ({ ...p, keyPackage: toB64Url(carolPackage.keyPackage) })) : packages);
    const group = (await api(server, alice.who.cookie, 'POST', '/api/groups', { name: 'h', members: ['bob'] })).body.id as string;
    await send(alice, group, 'bob is not in yet');
    await settle(alice, bob);
    const w = alice.codec.warnings.find((x) => x.code === 'key_package_refused' && x.conv === group);
    assert.ok(w, 'the swap is reported');
    assert.equal(w.userId, bob.who.user.id);
    assert.deepEqual((await alice.codec.roster(group)).map((m) => m.userId), [alice.who.user.id]);
    delete adversary.keyPackages;
    await alice.codec.sync(group);
    await settle(alice, bob);
    assert.equal(await bob.codec.isJoined(group), true);
  });
});

test('dropped Welcomes leave the device visibly waiting; replayed and reordered logs are harmless', async (t) => {
  const adversary: MlsAdversary = {};
  const server = await startMlsServer({ adversary });
  t.after(() => server.close());
  const alice = await online(server, await firstDevice(server, await setupOwner(server, 'alice'), { rotation: { maxMessages: 1, maxAgeMs: 864e5 } }));
  const bob = await online(server, await firstDevice(server, await registerInvited(server, 'bob')));
  t.after(() => closeAll(alice, bob));
  adversary.welcomes = dropWelcomes;
  const dm = (await api(server, alice.who.cookie, 'POST', '/api/dms', { username: 'bob' })).body.id as string;
  await send(alice, dm, 'hidden welcome');
  await settle(alice, bob);
  await assert.rejects(bob.codec.encode(dm, { kind: 'text', text: 'x' }), (err: unknown) => err instanceof SendRefused && err.waiting && err.code === 'waiting_for_keys');
  assert.deepEqual(texts(await read(server, bob, dm)), ['!waiting_for_keys']);
  delete adversary.welcomes;
  bob.codec.onConnected();
  await settle(alice, bob);
  assert.deepEqual(texts(await read(server, bob, dm)), ['hidden welcome']);

  // Alice rotates on every send; bob catches up through a log the server replays, then reverses.
  bob.codec.close();
  await bob.ws?.close();
  for (let i = 0; i < 4; i++) await send(alice, dm, `r${i}`);
  adversary.log = replayLog;
  const bob2 = await online(server, await reload(server, bob));
  t.after(() => closeAll(bob2));
  await settle(alice, bob2);
  assert.equal(await bob2.codec.epoch(dm), await alice.codec.epoch(dm));
  for (let i = 4; i < 8; i++) await send(alice, dm, `r${i}`);
  adversary.log = reorderLog;
  await bob2.codec.sync(dm);
  await settle(alice, bob2);
  assert.equal(await bob2.codec.epoch(dm), await alice.codec.epoch(dm));
  assert.deepEqual(texts(await read(server, bob2, dm)), ['hidden welcome', 'r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7']);
  assert.deepEqual(bob2.codec.warnings, []);
});
