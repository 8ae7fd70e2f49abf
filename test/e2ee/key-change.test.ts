// E2eeCodec and account keys: a contact's changed key blocks sending (naming them) until acknowledged; safety-number inputs, verification and pins survive a reload (vault-backed PinStore).
import test from 'node:test';
import assert from 'node:assert/strict';
import { api, login, registerInvited, setupOwner } from '../helpers/client.ts';
import { safetyNumber } from '../../web-client/src/crypto/index.ts';
import { SendRefused } from '../../web-client/src/state/body-codec.ts';
import { DeviceKeys } from '../../web-client/src/e2ee/device-keys.ts';
import { MlsClient } from '../../web-client/src/e2ee/mls-client.ts';
import { MemoryKeyValueStore } from '../../web-client/src/e2ee/vault.ts';
import { openE2eeCodec } from '../../web-client/src/e2ee/groups/index.ts';
import { closeAll, firstDevice, online, read, reload, send, settle, startE2eeServer, texts, transportFor, type Client } from './helpers.ts';

test('a changed account key blocks sending until acknowledged; verification persists', async (t) => {
  const server = await startE2eeServer();
  t.after(() => server.close());
  let alice = await online(server, await firstDevice(server, await setupOwner(server, 'alice')));
  const bob = await online(server, await firstDevice(server, await registerInvited(server, 'bob')));
  const dm = (await api(server, alice.who.cookie, 'POST', '/api/dms', { username: 'bob' })).body.id as string;
  await send(alice, dm, 'hi');
  await settle(alice, bob);

  const first = await alice.codec.safetyInputs(bob.who.user.id);
  assert.equal(first.verified, false);
  assert.equal(first.changed, false);
  const mine = await bob.codec.safetyInputs(alice.who.user.id);
  assert.equal(safetyNumber(first.me, first.them).digits, safetyNumber(mine.me, mine.them).digits, 'both sides compute the same number');
  await alice.codec.markVerified(bob.who.user.id);
  assert.equal(await alice.codec.isVerified(bob.who.user.id), true);
  alice = await online(server, await reload(server, alice));
  assert.equal(await alice.codec.isVerified(bob.who.user.id), true, 'pins and verification survive a reload');

  // Bob starts over: new account key, his old device revoked, a new one certified by the new key.
  const bobSession = await login(server, 'bob', bob.who.password);
  const stored = await fetch(`${server.url}/api/mls/backup/account-key`, { headers: { cookie: bobSession.cookie } });
  await fetch(`${server.url}/api/mls/backup/account-key`, { method: 'DELETE', headers: { cookie: bobSession.cookie, 'if-match': stored.headers.get('etag')! } });
  const kv = new MemoryKeyValueStore();
  const keys = new DeviceKeys({ kv, client: new MlsClient(transportFor(server, bobSession.cookie)) });
  await keys.removeDevice(bob.codec.deviceId);
  await keys.create(bobSession.user.id);
  await keys.finishSetup(bobSession.user.id);
  bob.codec.close();
  await bob.ws?.close();
  const newBob: Client = await online(server, {
    who: bobSession,
    kv,
    keys,
    codec: await openE2eeCodec({ userId: bobSession.user.id, deviceKeys: keys, transport: transportFor(server, bobSession.cookie), reconcileStaggerMs: 20 }),
  });
  t.after(() => closeAll(alice, newBob));
  await alice.codec.sync(dm);
  await settle(alice, newBob);
  // Bob's revoked device is gone; the one under his new key is held back until Alice accepts the key.
  assert.deepEqual((await alice.codec.roster(dm)).map((m) => m.deviceId), [alice.codec.deviceId]);

  await assert.rejects(alice.codec.encode(dm, { kind: 'text', text: 'blocked' }), (err: unknown) => {
    assert.ok(err instanceof SendRefused);
    assert.equal(err.code, 'send_blocked');
    assert.equal(err.waiting, false);
    assert.match(err.message, /bob/);
    return true;
  });
  const changes = await alice.codec.keyChanges();
  assert.deepEqual(changes.map((c) => [c.userId, c.username]), [[bob.who.user.id, 'bob']]);
  const changed = await alice.codec.safetyInputs(bob.who.user.id);
  assert.equal(changed.changed, true);
  assert.equal(changed.verified, false, 'the new key is not verified');
  assert.notDeepEqual(changed.them.accountKey, first.them.accountKey);

  assert.equal(await alice.codec.acknowledgeKeyChange(bob.who.user.id, first.them.accountKey), false, 'a key other than the one shown is not accepted');
  assert.equal((await alice.codec.keyChanges()).length, 1);
  assert.equal(await alice.codec.acknowledgeKeyChange(bob.who.user.id, changed.them.accountKey), true);
  assert.deepEqual(await alice.codec.keyChanges(), []);
  await send(alice, dm, 'after acknowledging');
  await settle(alice, newBob);
  assert.deepEqual((await alice.codec.roster(dm)).map((m) => m.deviceId).sort(), [alice.codec.deviceId, newBob.codec.deviceId].sort(), 'accepted: his new device is added before the send');
  assert.deepEqual(texts(await read(server, newBob, dm)), ['!unknown_epoch', 'after acknowledging']);
});
