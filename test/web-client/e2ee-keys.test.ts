// The client's identity layer (web-client/src/e2ee) against a real server in Node: keys at sign-up, recovery on a second device, wrong keys, rebind, KeyPackage top-up, passphrase restore, the vault's encryption, and no secret in the data dir.
import test from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { api, login, setupOwner, registerInvited, type SignedIn } from '../helpers/client.ts';
import { DeviceKeys } from '../../web-client/src/e2ee/device-keys.ts';
import { MlsClient } from '../../web-client/src/e2ee/mls-client.ts';
import { MemoryKeyValueStore, Vault, VaultError } from '../../web-client/src/e2ee/vault.ts';
import { decodeAccountKeyBackup, decodeArchive } from '../../web-client/src/e2ee/backup-format.ts';
import { topUpPlan, KEY_PACKAGE_TARGET } from '../../web-client/src/e2ee/key-packages.ts';
import { fromB64Url, toB64Url } from '../../web-client/src/e2ee/b64url.ts';
import { decodeRecoveryKey, encodeRecoveryKey, newBackupKey, verifyDeviceCertificate, isCryptoError } from '../../web-client/src/crypto/index.ts';
import { filesUnder } from '../helpers/files.ts';

/** Cheap Argon2id so the passphrase path runs in well under a second (the real cost is 64 MiB, t=3). */
const FAST_ARGON2 = { t: 1, m: 256, p: 1 };

function clientFor(server: TestServer, who: SignedIn): MlsClient {
  return new MlsClient((path, init) => fetch(server.url + path, { ...init, headers: { ...(init.headers as Record<string, string>), cookie: who.cookie } }));
}

function keysFor(server: TestServer, who: SignedIn, kv = new MemoryKeyValueStore()): { keys: DeviceKeys; kv: MemoryKeyValueStore } {
  return { keys: new DeviceKeys({ kv, client: clientFor(server, who), argon2: FAST_ARGON2 }), kv };
}

/** Every file under `dir`, as bytes. */

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => isCryptoError(err) && err.code === code);
}

test('identity layer against a real server', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const password = 'alice: correct horse battery staple';
  const alice = await setupOwner(server, 'alice', password);
  const first = keysFor(server, alice);
  let recoveryKey = '';
  let firstDeviceId = '';

  await t.test('sign-up: device registered and certified, KeyPackages and both backups uploaded', async () => {
    const made = await first.keys.create(alice.user.id);
    recoveryKey = made.recoveryKey;
    assert.match(recoveryKey, /^([0-9A-HJKMNP-TV-Z]{4}-){13}[0-9A-HJKMNP-TV-Z]{4}$/);
    const devices = (await api(server, alice.cookie, 'GET', '/api/mls/devices')).body.devices;
    assert.equal(devices.length, 1);
    assert.equal(devices[0].current, true);
    const cert = await verifyDeviceCertificate(fromB64Url(devices[0].certificate));
    assert.equal(cert.userId, alice.user.id);
    assert.equal(cert.deviceId, devices[0].id);
    assert.doesNotMatch(devices[0].label, /Mozilla|Chrome|Node/i, 'the label carries no user agent');
    const count = (await api(server, alice.cookie, 'GET', '/api/mls/key-packages')).body;
    assert.deepEqual(count, { oneTime: KEY_PACKAGE_TARGET, hasLastResort: true });
    const backup = await fetch(`${server.url}/api/mls/backup/account-key`, { headers: { cookie: alice.cookie } });
    assert.equal(backup.status, 200);
    const parsed = decodeAccountKeyBackup(new Uint8Array(await backup.arrayBuffer()));
    assert.equal(parsed.passphraseWrappedBackupKey, undefined);
    const archive = await fetch(`${server.url}/api/mls/backup/archive`, { headers: { cookie: alice.cookie } });
    assert.deepEqual(decodeArchive(new Uint8Array(await archive.arrayBuffer())), []);
    firstDeviceId = devices[0].id;
    assert.equal(made.deviceId, firstDeviceId);
    // Until the user has left the recovery key screen, a reload shows the same key again.
    assert.deepEqual(await first.keys.check(alice.user.id), { state: 'setup', recoveryKey, deviceId: firstDeviceId });
    await first.keys.finishSetup(alice.user.id);
    assert.deepEqual(await first.keys.check(alice.user.id), { state: 'ready', deviceId: firstDeviceId });
    assert.equal((await api(server, alice.cookie, 'GET', '/api/mls/devices')).body.devices.length, 1, 'checking twice adds no device');
  });

  await t.test('the vault holds only ciphertext and non-extractable keys, bound to its slot', async () => {
    const bk = await decodeRecoveryKey(recoveryKey);
    for (const [slot, value] of first.kv.map) {
      if (value instanceof CryptoKey) {
        assert.equal(value.extractable, false, `${slot}: non-extractable`);
        continue;
      }
      const v = value as { key?: CryptoKey; iv?: Uint8Array; ct?: Uint8Array };
      if (v.key) assert.equal(v.key.extractable, false, `${slot}: non-extractable`);
      else assert.ok(v.iv instanceof Uint8Array && v.ct instanceof Uint8Array, `${slot}: sealed`);
      if (v.ct) assert.ok(!Buffer.from(v.ct).includes(Buffer.from(bk)), `${slot}: the backup key is not in the clear`);
    }
    // A sealed record moved to another slot does not open.
    first.kv.map.set(`${alice.user.id}/key-packages`, first.kv.map.get(`${alice.user.id}/device`));
    const vault = await Vault.open(first.kv, alice.user.id);
    await assert.rejects(vault.read('key-packages'), VaultError);
    await vault.delete('key-packages');
  });

  await t.test('a second browser: wrong key refused, nothing lost, then the right key adds a device', async () => {
    const second = await login(server, 'alice', password);
    const { keys, kv } = keysFor(server, second);
    assert.deepEqual(await keys.check(alice.user.id), { state: 'restore', hasPassphrase: false });
    await rejectsWith(keys.restoreWithRecoveryKey(alice.user.id, await encodeRecoveryKey(newBackupKey())), 'wrong_recovery_key');
    const typo = recoveryKey.slice(0, -1) + (recoveryKey.endsWith('0') ? '1' : '0');
    await rejectsWith(keys.restoreWithRecoveryKey(alice.user.id, typo), 'bad_recovery_key');
    assert.equal((await api(server, second.cookie, 'GET', '/api/mls/devices')).body.devices.length, 1, 'no device registered by a failed try');
    const deviceId = await keys.restoreWithRecoveryKey(alice.user.id, recoveryKey.toLowerCase().replace(/-/g, ' '));
    const devices = (await api(server, second.cookie, 'GET', '/api/mls/devices')).body.devices;
    assert.equal(devices.length, 2);
    assert.equal(devices.find((d: { current: boolean }) => d.current).id, deviceId);
    const certs = await Promise.all(devices.map((d: { certificate: string }) => verifyDeviceCertificate(fromB64Url(d.certificate))));
    assert.deepEqual(certs[0].accountKey, certs[1].accountKey, 'both devices certified by the same account key');
    assert.deepEqual(await keys.check(alice.user.id), { state: 'ready', deviceId });
    assert.ok(kv.map.size > 0);
  });

  await t.test('signing in again on a browser with keys rebinds its device to the new session', async () => {
    const again = await login(server, 'alice', password);
    const keys = new DeviceKeys({ kv: first.kv, client: clientFor(server, again) });
    const before = (await api(server, again.cookie, 'GET', '/api/mls/devices')).body.devices;
    assert.ok(before.every((d: { current: boolean }) => !d.current), 'a new session starts unbound');
    const result = await keys.check(alice.user.id);
    assert.equal(result.state, 'ready');
    const after = (await api(server, again.cookie, 'GET', '/api/mls/devices')).body.devices;
    assert.equal(after.length, 2, 'no new device');
    assert.equal(after.find((d: { current: boolean }) => d.current)?.id, result.state === 'ready' ? result.deviceId : '');
  });

  await t.test('KeyPackages are topped up when the stock runs low', async () => {
    assert.deepEqual(topUpPlan({ oneTime: 10, hasLastResort: true }), { oneTime: 0, lastResort: false });
    assert.deepEqual(topUpPlan({ oneTime: 9, hasLastResort: true }), { oneTime: 11, lastResort: false });
    assert.deepEqual(topUpPlan({ oneTime: 0, hasLastResort: false }), { oneTime: 20, lastResort: true });
    const bob = await registerInvited(server, 'bob');
    for (let i = 0; i < 12; i++) {
      const r = await api(server, bob.cookie, 'POST', `/api/mls/users/${alice.user.id}/key-packages/claim`, { devices: [firstDeviceId] });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.packages[0].lastResort, false);
    }
    const session = await login(server, 'alice', password);
    const keys = new DeviceKeys({ kv: first.kv, client: clientFor(server, session) });
    assert.deepEqual(await keys.check(alice.user.id), { state: 'ready', deviceId: firstDeviceId });
    assert.equal(await keys.topUp(alice.user.id), 12);
    assert.deepEqual((await api(server, session.cookie, 'GET', '/api/mls/key-packages')).body, { oneTime: KEY_PACKAGE_TARGET, hasLastResort: true });
    assert.equal(await keys.topUp(alice.user.id), 0, 'nothing while the stock is fine');
  });

  await t.test('a passphrase wraps the backup key too and restores a third device', async () => {
    await rejectsWith(first.keys.setPassphrase(alice.user.id, 'too short'), 'weak_passphrase');
    const passphrase = 'a long enough backup passphrase';
    await first.keys.setPassphrase(alice.user.id, passphrase);
    const third = await login(server, 'alice', password);
    const { keys } = keysFor(server, third);
    assert.deepEqual(await keys.check(alice.user.id), { state: 'restore', hasPassphrase: true });
    await rejectsWith(keys.restoreWithPassphrase(alice.user.id, 'not the passphrase at all'), 'wrong_recovery_key');
    await keys.restoreWithPassphrase(alice.user.id, passphrase);
    assert.equal((await api(server, third.cookie, 'GET', '/api/mls/devices')).body.devices.length, 3);
    // The recovery key still works after a passphrase was added.
    const fourth = await login(server, 'alice', password);
    await keysFor(server, fourth).keys.restoreWithRecoveryKey(alice.user.id, recoveryKey);
  });

  await t.test('an account without a backup (made before end-to-end keys) reports none', async () => {
    const carol = await registerInvited(server, 'carol');
    assert.deepEqual(await keysFor(server, carol).keys.check(carol.user.id), { state: 'none' });
  });

  await t.test('a setup cut off before the device was registered resumes on the next check', async () => {
    const dave = await registerInvited(server, 'dave');
    const kv = new MemoryKeyValueStore();
    let failNext = true;
    const flaky = new MlsClient((path, init) => {
      if (failNext && path === '/api/mls/devices' && init.method === 'POST') {
        failNext = false;
        return Promise.reject(new TypeError('network down'));
      }
      return fetch(server.url + path, { ...init, headers: { ...(init.headers as Record<string, string>), cookie: dave.cookie } });
    });
    const keys = new DeviceKeys({ kv, client: flaky });
    await assert.rejects(keys.create(dave.user.id), /Cannot reach the server/);
    assert.equal((await api(server, dave.cookie, 'GET', '/api/mls/devices')).body.devices.length, 0);
    const resumed = await keys.check(dave.user.id);
    assert.equal(resumed.state, 'setup', 'the recovery key is shown after all');
    const devices = (await api(server, dave.cookie, 'GET', '/api/mls/devices')).body.devices;
    assert.equal(devices.length, 1);
    assert.equal(resumed.state === 'setup' && resumed.deviceId, devices[0].id);
    // The key shown on resume opens the backup the first attempt uploaded.
    const other = await login(server, 'dave', dave.password);
    await keysFor(server, other).keys.restoreWithRecoveryKey(dave.user.id, resumed.state === 'setup' ? resumed.recoveryKey : '');
  });

  await t.test('a device removed from another browser is not re-registered from its kept keys', async () => {
    const mine = await login(server, 'alice', password);
    const kv = new MemoryKeyValueStore();
    const { keys } = keysFor(server, mine, kv);
    const deviceId = await keys.restoreWithRecoveryKey(alice.user.id, recoveryKey);
    const elsewhere = await login(server, 'alice', password);
    await keysFor(server, elsewhere).keys.removeDevice(deviceId);
    assert.equal((await api(server, mine.cookie, 'GET', '/api/me')).status, 401, 'the removed device was signed out');
    // Signing in again on that browser: its kept keys belong to a removed device.
    const again = await login(server, 'alice', password);
    const count = (await api(server, again.cookie, 'GET', '/api/mls/devices')).body.devices.length;
    assert.deepEqual(await keysFor(server, again, kv).keys.check(alice.user.id), { state: 'restore', hasPassphrase: true });
    assert.equal((await api(server, again.cookie, 'GET', '/api/mls/devices')).body.devices.length, count, 'no device added');
    assert.equal([...kv.map.keys()].filter((k) => k.startsWith(alice.user.id)).length, 0, 'the kept keys are forgotten');
  });

  await t.test('unreadable local records are dropped and the browser unlocks from the backup', async () => {
    const session = await login(server, 'alice', password);
    const kv = new MemoryKeyValueStore();
    const { keys } = keysFor(server, session, kv);
    await keys.restoreWithRecoveryKey(alice.user.id, recoveryKey);
    // Another wrapping key: as if the browser lost it while the records stayed.
    kv.map.set(`${alice.user.id}/wrapping-key`, await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']));
    assert.deepEqual(await keys.check(alice.user.id), { state: 'restore', hasPassphrase: true });
    assert.equal([...kv.map.keys()].filter((k) => k.startsWith(alice.user.id)).length, 0, 'nothing unreadable is kept');
  });

  await t.test('neither the recovery key nor the backup key is anywhere in the data dir', async () => {
    const bk = Buffer.from(await decodeRecoveryKey(recoveryKey));
    const needles = [Buffer.from(recoveryKey), Buffer.from(recoveryKey.replace(/-/g, '')), bk, Buffer.from(toB64Url(bk)), Buffer.from(bk.toString('base64'))];
    const files = filesUnder(server.dir);
    assert.ok(files.length > 0);
    for (const f of files) for (const n of needles) assert.ok(!f.bytes.includes(n), `${f.path} must not contain the recovery secret`);
  });
});
