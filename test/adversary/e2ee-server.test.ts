// Server-as-adversary against the real conversation engine: the delivery service replays an old Welcome, injects an uncertified device, adds a device to the user's own account under a key of its own, swaps a KeyPackage, replays and reorders the handshake log, replays and moves envelopes, and drops Welcomes — each is refused or harmless, and the engine says so.
import test from 'node:test';
import assert from 'node:assert/strict';
import { api, registerInvited, setupOwner } from '../helpers/client.ts';
import { fromBase64 } from '../../src/shared/base64.ts';
import type { MlsAdversary } from '../../src/server/mls/adversary.ts';
import { dropWelcomes, injectDevice, reorderLog, replayLog, swapKeyPackages } from '../../src/server/mls/adversary.ts';
import { KEYS_EVENT, SendRefused } from '../../web-client/src/state/body-codec.ts';
import { b64u, startMlsServer } from '../server/mls-helpers.ts';
import { createSession } from '../helpers/direct.ts';
import { createAccountKey, createDevice, generateKeyPackages, readEnvelopeHeader } from '../../web-client/src/crypto/index.ts';
import type { WelcomeView } from '../../src/shared/mls-api.ts';
import { MlsClient } from '../../web-client/src/e2ee/mls-client.ts';
import { transportFor } from '../e2ee/helpers.ts';
import { closeAll, firstDevice, online, read, send, settle, stored, texts, type Client } from '../e2ee/helpers.ts';
import type { TestServer } from '../helpers/server.ts';

interface World {
  server: TestServer;
  adversary: MlsAdversary;
  alice: Client;
  bob: Client;
}

/** A server whose delivery service runs `adversary`'s hooks (changeable between steps), with Alice and Bob online. */
async function world(t: test.TestContext, extra: string[] = []): Promise<World & { others: Client[] }> {
  const adversary: MlsAdversary = {};
  const server = await startMlsServer({ adversary });
  t.after(() => server.close());
  const alice = await online(server, await firstDevice(server, await setupOwner(server, 'alice')));
  const bob = await online(server, await firstDevice(server, await registerInvited(server, 'bob')));
  const others: Client[] = [];
  for (const name of extra) others.push(await online(server, await firstDevice(server, await registerInvited(server, name))));
  t.after(() => closeAll(alice, bob, ...others));
  return { server, adversary, alice, bob, others };
}

async function dm(w: World): Promise<string> {
  const res = await api(w.server, w.alice.who.cookie, 'POST', '/api/dms', { username: 'bob' });
  assert.equal(res.status, 200, res.text);
  return res.body.id as string;
}

test('an injected device without a valid certificate is refused and reported, and the real device still reads', async (t) => {
  const w = await world(t);
  w.adversary.devices = injectDevice(w.bob.who.user.id, { id: 'dfake000000000000001', userId: w.bob.who.user.id, certificate: b64u('not a certificate') });
  const conv = await dm(w);
  await send(w.alice, conv, 'for bob only');
  await settle(w.alice, w.bob);
  assert.deepEqual(texts(await read(w.server, w.bob, conv)), ['for bob only'], 'the real device still reads');
  const warning = w.alice.codec.warnings.find((x) => x.code === 'invalid_device');
  assert.ok(warning, `a warning names the refused device: ${JSON.stringify(w.alice.codec.warnings)}`);
  assert.equal(warning.deviceId, 'dfake000000000000001');
  assert.match(warning.message, /\S/);
});

test('a KeyPackage swapped for another user’s is refused: that user is never added, and the engine says so', async (t) => {
  const w = await world(t, ['mallory']);
  const [mallory] = w.others;
  // The server hands out Mallory's package whenever Bob's is claimed.
  const claimed = await api(w.server, w.alice.who.cookie, 'POST', `/api/mls/users/${mallory.who.user.id}/key-packages/claim`, {});
  assert.equal(claimed.status, 200, claimed.text);
  w.adversary.keyPackages = swapKeyPackages(w.bob.who.user.id, claimed.body.packages[0].keyPackage);
  const conv = await dm(w);
  await send(w.alice, conv, 'not for mallory');
  await settle(w.alice, w.bob, mallory);
  const warning = w.alice.codec.warnings.find((x) => x.code === 'key_package_refused');
  assert.ok(warning, `a warning names the refused package: ${JSON.stringify(w.alice.codec.warnings)}`);
  const malloryWelcomes = await api(w.server, mallory.who.cookie, 'GET', '/api/mls/welcomes');
  assert.deepEqual(malloryWelcomes.body.welcomes, [], 'no Welcome went to the device behind the swapped package');
  // Bob was not added with a package that is not his: he cannot read yet, and is told why.
  const [d] = await read(w.server, w.bob, conv);
  assert.equal(d.ok, false);
  assert.equal(!d.ok && d.retryable, true);
  // Once the server stops lying, the next reconcile adds Bob with his own package.
  w.adversary.keyPackages = undefined;
  const bobKeys = new Promise<void>((resolve) => w.bob.codec.addEventListener(KEYS_EVENT, () => resolve(), { once: true }));
  await w.alice.codec.sync(conv);
  await bobKeys;
  await send(w.alice, conv, 'now for bob');
  await settle(w.alice, w.bob);
  assert.deepEqual(texts(await read(w.server, w.bob, conv)).at(-1), 'now for bob');
});

test('a replayed and then reordered handshake log does not fork the group: every member converges and reads everything', async (t) => {
  const w = await world(t, ['carol', 'dave']);
  const [carol, dave] = w.others;
  const group = await api(w.server, w.alice.who.cookie, 'POST', '/api/groups', { name: 'G', members: ['bob'] });
  assert.equal(group.status, 200, group.text);
  const conv = group.body.id as string;
  await send(w.alice, conv, 'one');
  await settle(w.alice, w.bob);

  w.adversary.log = replayLog;
  assert.equal((await api(w.server, w.alice.who.cookie, 'POST', `/api/groups/${conv}/members`, { username: 'carol' })).status < 300, true);
  await w.alice.codec.sync(conv);
  await settle(w.alice, w.bob, carol);
  await send(w.bob, conv, 'two');
  await settle(w.alice, w.bob, carol);

  w.adversary.log = reorderLog;
  assert.equal((await api(w.server, w.alice.who.cookie, 'POST', `/api/groups/${conv}/members`, { username: 'dave' })).status < 300, true);
  await w.alice.codec.sync(conv);
  await settle(w.alice, w.bob, carol, dave);
  await send(carol, conv, 'three');
  await settle(w.alice, w.bob, carol, dave);

  for (const c of [w.alice, w.bob]) assert.deepEqual(texts(await read(w.server, c, conv)), ['one', 'two', 'three'], c.who.user.username);
  assert.deepEqual(texts(await read(w.server, carol, conv)).slice(1), ['two', 'three']);
  assert.deepEqual(texts(await read(w.server, dave, conv)).at(-1), 'three');
});

test('an envelope replayed under a new seq is a duplicate, and one moved to another conversation is refused', async (t) => {
  const w = await world(t, ['carol']);
  const conv = await dm(w);
  await send(w.alice, conv, 'said once');
  await settle(w.alice, w.bob);
  const [original] = await stored(w.server, w.bob, conv);

  // The server stores the same envelope again, as a new message.
  const replayed = await w.server.store.appendMessage({ convId: conv, senderId: w.alice.who.user.id, ts: Date.now(), body: fromBase64(original.body) });
  const decoded = await w.bob.codec.decode(conv, { seq: original.seq, sender: original.sender, body: original.body });
  assert.equal(decoded.ok, true, 'the original still reads');
  const dup = await w.bob.codec.decode(conv, { seq: replayed.seq, sender: w.alice.who.user.id, body: original.body });
  assert.equal(dup.ok, false);
  assert.equal(!dup.ok && dup.code, 'duplicate');
  assert.match(!dup.ok ? dup.reason : '', /\S/);

  // The same envelope delivered in another conversation Bob is in.
  const other = (await api(w.server, w.bob.who.cookie, 'POST', '/api/dms', { username: 'carol' })).body.id as string;
  const moved = await w.bob.codec.decode(other, { seq: 1, sender: w.alice.who.user.id, body: original.body });
  assert.equal(moved.ok, false);
  assert.equal(!moved.ok && moved.code, 'wrong_group');

  // And one attributed by the server to someone else than its signer.
  const misattributed = await w.bob.codec.decode(conv, { seq: replayed.seq + 1, sender: w.bob.who.user.id, body: original.body });
  assert.equal(misattributed.ok, false);
});

test('dropped Welcomes leave the member waiting with a reason, never reading or sending garbage; delivery later recovers', async (t) => {
  const w = await world(t);
  w.adversary.welcomes = dropWelcomes;
  const conv = await dm(w);
  await send(w.alice, conv, 'you will get this');
  await settle(w.alice, w.bob);
  const [waiting] = await read(w.server, w.bob, conv);
  assert.equal(waiting.ok, false);
  assert.equal(!waiting.ok && waiting.retryable, true);
  assert.match(!waiting.ok ? waiting.reason : '', /\S/);
  await assert.rejects(w.bob.codec.encode(conv, { kind: 'text', text: 'too early' }), (err: unknown) => err instanceof SendRefused && err.waiting);

  w.adversary.welcomes = undefined;
  const keys = new Promise<void>((resolve) => w.bob.codec.addEventListener(KEYS_EVENT, () => resolve(), { once: true }));
  w.bob.codec.onConnected();
  await keys;
  await settle(w.alice, w.bob);
  await send(w.bob, conv, 'got in');
  await settle(w.alice, w.bob);
  assert.deepEqual(texts(await read(w.server, w.alice, conv)), ['you will get this', 'got in']);
});

test('a device the server adds to your own account under an account key of its own is refused by you and flagged by your contacts', async (t) => {
  const w = await world(t);
  const conv = await dm(w);
  await send(w.alice, conv, 'before the forgery');
  await settle(w.alice, w.bob);

  // The operator mints a session for alice, registers a device and certifies it with a key it made.
  const { cookie } = await createSession(w.server, w.alice.who.user.id);
  const forged = new MlsClient(transportFor(w.server, cookie));
  const { device } = await forged.registerDevice('Web browser, added today');
  const identity = await createDevice(await createAccountKey(), w.alice.who.user.id, device.id);
  const packages = await generateKeyPackages(identity, 2, { lastResort: true });
  await forged.setCertificate(identity.deviceId, identity.certificate);
  await forged.uploadKeyPackages(packages.filter((p) => !p.lastResort).map((p) => p.keyPackage), packages.find((p) => p.lastResort)?.keyPackage);

  for (const c of [w.alice, w.bob]) await c.codec.sync(conv);
  await settle(w.alice, w.bob);
  for (const c of [w.alice, w.bob]) {
    const roster = (await c.codec.roster(conv)).map((m) => m.deviceId);
    assert.ok(!roster.includes(device.id), `${c.who.user.username} never adds the forged device`);
  }
  const refused = w.alice.codec.warnings.find((x) => x.code === 'invalid_device' && x.deviceId === device.id);
  assert.ok(refused, `alice is told: ${JSON.stringify(w.alice.codec.warnings)}`);
  assert.match(refused.message, /not yours/);
  assert.deepEqual((await w.bob.codec.keyChanges()).map((k) => k.userId), [w.alice.who.user.id], 'bob sees alice’s safety number change');
  await assert.rejects(w.bob.codec.encode(conv, { kind: 'text', text: 'held' }), (err: unknown) => err instanceof SendRefused && err.code === 'send_blocked');
  await send(w.alice, conv, 'after the forgery');
  await settle(w.alice, w.bob);
  assert.deepEqual(texts(await read(w.server, w.bob, conv)), ['before the forgery', 'after the forgery']);
  const forgedWelcomes = await api(w.server, cookie, 'GET', '/api/mls/welcomes');
  assert.deepEqual(forgedWelcomes.body.welcomes, [], 'no Welcome reached the forged device');
});

test('an old Welcome replayed (even labelled with a later epoch) is refused: the member is never rolled back to keys a removed member holds', async (t) => {
  const w = await world(t, ['carol']);
  const [carol] = w.others;
  const seen: WelcomeView[] = [];
  w.adversary.welcomes = (_device, list) => {
    seen.push(...list);
    return list;
  };
  // Use up bob's one-time KeyPackages, so his Welcome is sealed to his reusable last-resort one.
  for (let i = 0; i < 100; i++) {
    const claim = await api(w.server, carol.who.cookie, 'POST', `/api/mls/users/${w.bob.who.user.id}/key-packages/claim`, {});
    if (claim.body.packages[0]?.lastResort) break;
  }
  const group = await api(w.server, w.alice.who.cookie, 'POST', '/api/groups', { name: 'G', members: ['bob', 'carol'] });
  const conv = group.body.id as string;
  await send(w.alice, conv, 'one');
  await settle(w.alice, w.bob, carol);
  const bobsFirst = seen.find((x) => x.conv === conv);
  assert.ok(bobsFirst, 'the Welcome that let bob in was seen');
  // Carol leaves: the group moves on to an epoch whose keys she never gets.
  assert.equal((await api(w.server, carol.who.cookie, 'POST', `/api/groups/${conv}/leave`)).status, 204);
  await w.alice.codec.sync(conv);
  await settle(w.alice, w.bob);
  const before = await w.bob.codec.epoch(conv);
  assert.ok(before !== undefined && before > Number(bobsFirst.epoch), `bob moved on (epoch ${before})`);

  // The server hands bob his first Welcome again, claiming a far later epoch.
  w.adversary.welcomes = () => [{ ...bobsFirst, epoch: 999 }];
  await w.bob.codec.pickUpWelcomes().catch(() => undefined);
  assert.equal(await w.bob.codec.epoch(conv), before, 'bob stays where he was');
  assert.ok(w.bob.codec.warnings.some((x) => x.code === 'welcome_refused' && x.conv === conv), JSON.stringify(w.bob.codec.warnings));
  w.adversary.welcomes = undefined;
  const body = await w.bob.codec.encode(conv, { kind: 'text', text: 'after the replay' });
  assert.equal(Number(readEnvelopeHeader(fromBase64(body)).epoch), before, 'bob seals in the current epoch');
});
