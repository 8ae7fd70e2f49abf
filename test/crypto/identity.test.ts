// Device certificates (exact v1 bytes, signature checks), account-key pinning and our MLS AuthenticationService's refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeviceCertAuthService } from '../../web-client/src/crypto/auth-service.ts';
import { fromHex, toHex } from '../../web-client/src/crypto/bytes.ts';
import {
  createAccountKey,
  createDevice,
  decodeDeviceIdentity,
  encodeDeviceIdentity,
  importAccountKey,
  parseDeviceCertificate,
  signDeviceCertificate,
  verifyDeviceCertificate,
} from '../../web-client/src/crypto/identity.ts';
import { acknowledgeKeyChange, assertSendAllowed, checkPin, markVerified, MemoryPinStore } from '../../web-client/src/crypto/pins.ts';
import { ed25519SeedToPkcs8 } from '../../web-client/src/crypto/primitives.ts';

const seed = (b: number) => ed25519SeedToPkcs8(new Uint8Array(32).fill(b));

test('device certificate v1 has the documented byte layout and a deterministic signature', async () => {
  const account = await importAccountKey(seed(1));
  const deviceKey = new Uint8Array(32).fill(7);
  const cert = await signDeviceCertificate(account, { userId: 'u1', deviceId: 'd1', deviceKey, createdAt: 1_700_000_000_000 });
  const tbsHex = '01' + '02' + toHex(new TextEncoder().encode('u1')) + toHex(account.publicKey) + '07'.repeat(32) + '02' + toHex(new TextEncoder().encode('d1')) + '0000018bcfe56800';
  assert.equal(toHex(cert.subarray(0, cert.length - 64)), tbsHex);
  assert.equal(cert.length, tbsHex.length / 2 + 64);
  const again = await signDeviceCertificate(account, { userId: 'u1', deviceId: 'd1', deviceKey, createdAt: 1_700_000_000_000 });
  assert.equal(toHex(again), toHex(cert), 'Ed25519 is deterministic');
  const parsed = await verifyDeviceCertificate(cert);
  assert.equal(parsed.userId, 'u1');
  assert.equal(parsed.deviceId, 'd1');
  assert.equal(parsed.createdAt, 1_700_000_000_000);
});

test('a flipped bit anywhere in a certificate is refused', async () => {
  const account = await createAccountKey();
  const dev = await createDevice(account, 'alice', 'phone');
  for (let i = 0; i < dev.certificate.length; i++) {
    const bad = dev.certificate.slice();
    bad[i] ^= 0x10;
    await assert.rejects(verifyDeviceCertificate(bad), (e: any) => e.code === 'invalid_certificate' || e.code === 'unsupported_version', `byte ${i}`);
  }
  await assert.rejects(verifyDeviceCertificate(dev.certificate.subarray(0, 40)), { code: 'invalid_certificate' });
  assert.throws(() => parseDeviceCertificate(new Uint8Array([2, 0])), { code: 'unsupported_version' });
});

test('device identity round-trips through its storage encoding', async () => {
  const account = await createAccountKey();
  const dev = await createDevice(account, 'alice', 'laptop');
  const back = await decodeDeviceIdentity(encodeDeviceIdentity(dev));
  assert.equal(toHex(back.signaturePublicKey), toHex(dev.signaturePublicKey));
  assert.equal(back.deviceId, 'laptop');
});

test('pins: first sight pins, a change is pending and blocks sending until acknowledged', async () => {
  const pins = new MemoryPinStore();
  const k1 = fromHex('11'.repeat(32));
  const k2 = fromHex('22'.repeat(32));
  assert.equal((await checkPin(pins, 'bob', k1)).kind, 'first_seen');
  assert.deepEqual(await checkPin(pins, 'bob', k1), { kind: 'match', verified: false });
  await assertSendAllowed(pins, ['bob']);
  const changed = await checkPin(pins, 'bob', k2);
  assert.equal(changed.kind, 'key_changed');
  await assert.rejects(assertSendAllowed(pins, ['alice', 'bob']), (e: any) => e.code === 'send_blocked' && e.details.userIds[0] === 'bob');
  await markVerified(pins, 'bob', k1);
  await assert.rejects(assertSendAllowed(pins, ['bob']), { code: 'send_blocked' }, 'verifying the old key does not clear the change');
  await acknowledgeKeyChange(pins, 'bob');
  await assertSendAllowed(pins, ['bob']);
  assert.equal(toHex((await pins.get('bob'))!.accountKey), toHex(k2));
  assert.equal((await pins.get('bob'))!.verified, false);
});

test('AuthenticationService: valid cert passes; wrong type, bad signature, key mismatch refused with reasons', async () => {
  const pins = new MemoryPinStore();
  const as = new DeviceCertAuthService(pins);
  const account = await createAccountKey();
  const dev = await createDevice(account, 'carol', 'd1');
  assert.equal(await as.validateCredential({ credentialType: 'basic', identity: dev.certificate }, dev.signaturePublicKey), true);
  assert.equal(await as.validateCredential({ credentialType: 'x509', certificates: [] }, dev.signaturePublicKey), false);
  const forged = dev.certificate.slice();
  forged[forged.length - 1] ^= 1;
  assert.equal(await as.validateCredential({ credentialType: 'basic', identity: forged }, dev.signaturePublicKey), false);
  assert.equal(await as.validateCredential({ credentialType: 'basic', identity: new TextEncoder().encode('carol') }, dev.signaturePublicKey), false);
  const other = await createDevice(account, 'carol', 'd2');
  assert.equal(await as.validateCredential({ credentialType: 'basic', identity: dev.certificate }, other.signaturePublicKey), false);
  assert.deepEqual(as.refusals.map((r) => r.reason), ['unsupported_credential', 'invalid_certificate', 'invalid_certificate', 'key_mismatch']);
  const impostor = await createDevice(await createAccountKey(), 'carol', 'd3');
  assert.equal(await as.validateCredential({ credentialType: 'basic', identity: impostor.certificate }, impostor.signaturePublicKey), true);
  assert.equal(as.keyChanges.length, 1);
  assert.equal(as.keyChanges[0].userId, 'carol');
});
