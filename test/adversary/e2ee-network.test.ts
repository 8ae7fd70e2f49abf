// A flaky network against the real conversation engine: the answer to our own (self-update) commit is lost, and so is the next look at the log, although the server stored it, and the device adopts its own commit when the log shows it instead of wedging the conversation; a member who cannot commit a removal sends nothing until the removed member is out.
import test from 'node:test';
import assert from 'node:assert/strict';
import { api, registerInvited, setupOwner } from '../helpers/client.ts';
import { DeviceKeys } from '../../web-client/src/e2ee/device-keys.ts';
import { MemoryKeyValueStore } from '../../web-client/src/e2ee/vault.ts';
import { MlsClient, type Transport } from '../../web-client/src/e2ee/mls-client.ts';
import { openE2eeCodec } from '../../web-client/src/e2ee/groups/index.ts';
import { KEYS_EVENT, SendRefused } from '../../web-client/src/state/body-codec.ts';
import { closeAll, firstDevice, online, read, send, settle, startE2eeServer, texts, transportFor, type Client } from '../e2ee/helpers.ts';

test('a commit stored by the server whose answer was lost is adopted, not left to wedge the group', async (t) => {
  const server = await startE2eeServer();
  t.after(() => server.close());
  const who = await setupOwner(server, 'alice');
  let dropCommitAnswer = false;
  let failNextLog = false;
  const base = transportFor(server, who.cookie);
  const flaky: Transport = async (path, init) => {
    if (dropCommitAnswer && init.method === 'POST' && path.endsWith('/commits')) {
      dropCommitAnswer = false;
      failNextLog = true;
      await base(path, init);
      throw new TypeError('fetch failed: the connection dropped');
    }
    if (failNextLog && path.includes('/log')) {
      failNextLog = false;
      throw new TypeError('fetch failed: the connection dropped');
    }
    return base(path, init);
  };
  const kv = new MemoryKeyValueStore();
  const keys = new DeviceKeys({ kv, client: new MlsClient(flaky) });
  await keys.create(who.user.id);
  await keys.finishSetup(who.user.id);
  assert.equal((await keys.check(who.user.id)).state, 'ready');
  // Rotate after every message, so each send starts with a self-update commit (its path is encrypted to the others: MLS cannot process it as its own).
  const rotation = { maxAgeMs: 7 * 24 * 3600 * 1000, maxMessages: 1 };
  const codec = await openE2eeCodec({ userId: who.user.id, deviceKeys: keys, transport: flaky, reconcileStaggerMs: 20, reconcileEveryMs: 60_000, rotation });
  const alice: Client = await online(server, { who, kv, keys, codec });
  const bob = await online(server, await firstDevice(server, await registerInvited(server, 'bob')));
  t.after(() => closeAll(alice, bob));
  const dm = (await api(server, alice.who.cookie, 'POST', '/api/dms', { username: 'bob' })).body.id as string;
  await send(alice, dm, 'one');
  await settle(alice, bob);

  // The rotation commit before 'two' reaches the server, but its answer and the next log read are lost.
  dropCommitAnswer = true;
  // A failed rotation does not hold the message back: it goes out in the epoch alice still holds.
  await send(alice, dm, 'two');
  assert.equal(dropCommitAnswer, false, 'the commit was posted');
  await settle(alice, bob);
  await alice.codec.sync(dm).catch(() => undefined);
  await send(alice, dm, 'three');
  await settle(alice, bob);

  const state = await api(server, alice.who.cookie, 'GET', `/api/mls/groups/${dm}`);
  assert.equal(await alice.codec.epoch(dm), state.body.epoch, 'alice is at the server’s epoch');
  assert.ok(!alice.codec.warnings.some((w) => w.code === 'commit_unreadable'), JSON.stringify(alice.codec.warnings));
  assert.deepEqual(texts(await read(server, bob, dm)), ['one', 'two', 'three']);
});

test('after a leave, a member whose removal commit cannot be made sends nothing until the leaver is out (fail closed), then sends by itself', async (t) => {
  const server = await startE2eeServer();
  t.after(() => server.close());
  const who = await setupOwner(server, 'alice');
  let offline = false;
  const base = transportFor(server, who.cookie);
  // Alice hears of the leave and can read the log, but her roster check and commits fail (e.g. rate-limited).
  const flaky: Transport = async (path, init) => {
    if (offline && (path.includes('/members') || path.includes('/directory') || path.endsWith('/commits'))) throw new TypeError('fetch failed: the connection dropped');
    return base(path, init);
  };
  const kv = new MemoryKeyValueStore();
  const keys = new DeviceKeys({ kv, client: new MlsClient(base) });
  await keys.create(who.user.id);
  await keys.finishSetup(who.user.id);
  assert.equal((await keys.check(who.user.id)).state, 'ready');
  const codec = await openE2eeCodec({ userId: who.user.id, deviceKeys: keys, transport: flaky, reconcileStaggerMs: 20, reconcileEveryMs: 60_000 });
  const alice: Client = await online(server, { who, kv, keys, codec });
  // Bob and Carol stay offline (no socket): nobody else takes Carol out.
  const bob = await firstDevice(server, await registerInvited(server, 'bob'));
  const carol = await firstDevice(server, await registerInvited(server, 'carol'));
  t.after(() => closeAll(alice, bob, carol));
  const conv = (await api(server, alice.who.cookie, 'POST', '/api/groups', { name: 'G', members: ['bob', 'carol'] })).body.id as string;
  await send(alice, conv, 'before');
  await carol.codec.pickUpWelcomes();
  await settle(alice, carol);

  offline = true;
  const removal = alice.ws!.next((f) => f.t === 'mls.removal' && f.conv === conv, 10_000);
  assert.equal((await api(server, carol.who.cookie, 'POST', `/api/groups/${conv}/leave`)).status, 204);
  await removal;
  await assert.rejects(alice.codec.encode(conv, { kind: 'text', text: 'not for carol' }), (err: unknown) => {
    assert.ok(err instanceof SendRefused, String(err));
    assert.equal(err.code, 'removal_pending');
    assert.equal(err.waiting, true);
    return true;
  });

  offline = false;
  const keysBack = new Promise<void>((resolve) => alice.codec.addEventListener(KEYS_EVENT, () => resolve(), { once: true }));
  await alice.codec.sync(conv);
  await keysBack;
  assert.ok(!(await alice.codec.roster(conv)).some((m) => m.userId === carol.who.user.id), 'carol is out');
  await send(alice, conv, 'after');
});
