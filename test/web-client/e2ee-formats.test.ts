// The identity layer's small formats and messages: backup containers, length-prefixed fields, base64url, KeyPackage records, device labels and the sentences shown for key errors.
import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeAccountKeyBackup, decodeArchive, encodeAccountKeyBackup, encodeArchive } from '../../web-client/src/e2ee/backup-format.ts';
import { packFields, unpackFields } from '../../web-client/src/e2ee/codec.ts';
import { fromB64Url, toB64Url } from '../../web-client/src/e2ee/b64url.ts';
import { decodeOwnKeyPackages, encodeOwnKeyPackages } from '../../web-client/src/e2ee/key-packages.ts';
import { defaultDeviceLabel } from '../../web-client/src/e2ee/device-keys.ts';
import { keyErrorMessage, keyStateOf } from '../../web-client/src/state/key-gate.ts';
import { CryptoError, decodeRecoveryKey } from '../../web-client/src/crypto/index.ts';

const bytes = fc.uint8Array({ maxLength: 64 });

test('length-prefixed fields round-trip and refuse damage', () => {
  fc.assert(
    fc.property(fc.array(bytes, { maxLength: 6 }), (fields) => {
      const packed = packFields(1, fields);
      assert.deepEqual(unpackFields(packed, 1, 'x'), fields);
      assert.throws(() => unpackFields(packed, 2, 'x'), /unknown version 1/);
      assert.throws(() => unpackFields(packed.subarray(0, packed.length - 1), 1, 'x'), /truncated|too short/);
      assert.throws(() => unpackFields(Uint8Array.of(...packed, 0), 1, 'x'), /trailing bytes/);
    }),
  );
});

test('account-key backup: one or two fields, nothing else', () => {
  const wrappedAccountKey = Uint8Array.of(1, 2, 3);
  const passphraseWrappedBackupKey = Uint8Array.of(4, 5);
  assert.deepEqual(decodeAccountKeyBackup(encodeAccountKeyBackup({ wrappedAccountKey })), { wrappedAccountKey });
  assert.deepEqual(decodeAccountKeyBackup(encodeAccountKeyBackup({ wrappedAccountKey, passphraseWrappedBackupKey })), { wrappedAccountKey, passphraseWrappedBackupKey });
  assert.throws(() => decodeAccountKeyBackup(packFields(1, [])), /expected 1 or 2 fields/);
  assert.throws(() => decodeAccountKeyBackup(packFields(1, [wrappedAccountKey, wrappedAccountKey, wrappedAccountKey])), /expected 1 or 2 fields/);
  // The server refuses empty blobs: even an empty archive has bytes.
  assert.ok(encodeArchive([]).length > 0);
  assert.deepEqual(decodeArchive(encodeArchive([])), []);
  assert.deepEqual(decodeArchive(encodeArchive([wrappedAccountKey, passphraseWrappedBackupKey])), [wrappedAccountKey, passphraseWrappedBackupKey]);
});

test('base64url without padding matches Node and refuses other alphabets', () => {
  fc.assert(
    fc.property(bytes, (b) => {
      const text = toB64Url(b);
      assert.equal(text, Buffer.from(b).toString('base64url'));
      assert.deepEqual(fromB64Url(text), b);
    }),
  );
  assert.throws(() => fromB64Url('ab+/'), /not base64url/);
});

test('KeyPackage records keep every field', () => {
  const list = [
    { lastResort: false, ref: Uint8Array.of(1), keyPackage: Uint8Array.of(2, 2), secret: Uint8Array.of(3, 3, 3) },
    { lastResort: true, ref: Uint8Array.of(4), keyPackage: Uint8Array.of(5), secret: Uint8Array.of(6) },
  ];
  assert.deepEqual(decodeOwnKeyPackages(encodeOwnKeyPackages(list)), list);
  assert.deepEqual(decodeOwnKeyPackages(encodeOwnKeyPackages([])), []);
  assert.throws(() => decodeOwnKeyPackages(packFields(1, [Uint8Array.of(0)])), /fours/);
});

test('the device label says when, not which browser', () => {
  assert.equal(defaultDeviceLabel(Date.UTC(2026, 11, 1, 12)), 'Web browser, added 2026-12-01');
});

test('key errors become sentences that say what to do', async () => {
  const typo = await decodeRecoveryKey('0000').catch((e: unknown) => e);
  assert.match(keyErrorMessage(typo), /^That is not a valid recovery key: a recovery key has 56 characters, this has 4\./);
  assert.match(keyErrorMessage(new CryptoError('wrong_recovery_key', 'x')), /does not unlock this account’s keys.*try again/);
  assert.match(keyErrorMessage(new CryptoError('unsupported_runtime', 'no Ed25519')), /cannot hold end-to-end keys: no Ed25519/);
  assert.equal(keyErrorMessage(new Error('plain')), 'plain');
  assert.deepEqual(keyStateOf({ state: 'setup', recoveryKey: 'K', deviceId: 'd' }), { name: 'new-key', recoveryKey: 'K', deviceId: 'd' });
  assert.deepEqual(keyStateOf({ state: 'restore', hasPassphrase: false }), { name: 'restore', hasPassphrase: false });
});
