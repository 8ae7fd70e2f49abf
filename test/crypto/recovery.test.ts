// Recovery: recovery-key text (checksum, typos), Argon2id (RFC 9106 vector, cross-check with @node-rs/argon2), wrapped account key / passphrase / archive blobs, restore on a new device.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { argon2id } from '@noble/hashes/argon2.js';
import { Algorithm, hashRaw } from '@node-rs/argon2';
import { fromHex, toHex } from '../../web-client/src/crypto/bytes.ts';
import { openEnvelope, ReplayWindow, sealEnvelope } from '../../web-client/src/crypto/envelope.ts';
import { createDevice, importAccountKey } from '../../web-client/src/crypto/identity.ts';
import { conversationGroupId, MlsGroup, generateKeyPackages } from '../../web-client/src/crypto/mls.ts';
import {
  DEFAULT_ARGON2,
  decodeRecoveryKey,
  derivePassphraseKey,
  encodeRecoveryKey,
  newBackupKey,
  passphraseBlobParams,
  unwrapAccountKey,
  unwrapArchiveRecord,
  unwrapBackupKeyWithPassphrase,
  wrapAccountKey,
  wrapArchiveRecord,
  wrapBackupKeyWithPassphrase,
} from '../../web-client/src/crypto/recovery.ts';
import { makeClient } from './mls-helpers.ts';

const FAST = { t: 1, m: 256, p: 1 };

test('recovery key: 14 groups of 4 Crockford characters, forgiving input, typos caught', async () => {
  const bk = fromHex('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff');
  const text = await encodeRecoveryKey(bk);
  assert.match(text, /^([0-9A-HJKMNP-TV-Z]{4}-){13}[0-9A-HJKMNP-TV-Z]{4}$/);
  assert.equal(text, await encodeRecoveryKey(bk), 'deterministic');
  assert.equal(toHex(await decodeRecoveryKey(text)), toHex(bk));
  assert.equal(toHex(await decodeRecoveryKey(` ${text.toLowerCase().replace(/-/g, ' ')} `)), toHex(bk));
  assert.equal(toHex(await decodeRecoveryKey(text.replace(/0/g, 'O').replace(/1/g, 'l'))), toHex(bk));
  await assert.rejects(decodeRecoveryKey(text.slice(0, -1)), { code: 'bad_recovery_key' });
  await assert.rejects(decodeRecoveryKey(text.slice(0, -1) + 'U'), { code: 'bad_recovery_key' });
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: text.length - 1 }), fc.integer({ min: 1, max: 31 }), async (pos, shift) => {
      if (text[pos] === '-') return;
      const bad = text.slice(0, pos) + alphabet[(alphabet.indexOf(text[pos]) + shift) % 32] + text.slice(pos + 1);
      await assert.rejects(decodeRecoveryKey(bad), { code: 'bad_recovery_key' });
    }),
    { numRuns: 100, seed: 20261201 },
  );
  const fresh = newBackupKey();
  assert.equal(fresh.length, 32);
  assert.equal(toHex(await decodeRecoveryKey(await encodeRecoveryKey(fresh))), toHex(fresh));
});

test('Argon2id: RFC 9106 section 5.3 vector, and our wrapper matches @node-rs/argon2', async () => {
  const tag = argon2id(new Uint8Array(32).fill(1), new Uint8Array(16).fill(2), {
    t: 3, m: 32, p: 4, dkLen: 32, key: new Uint8Array(8).fill(3), personalization: new Uint8Array(12).fill(4),
  });
  assert.equal(toHex(tag), '0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659');
  const salt = new Uint8Array(16).fill(7);
  const ours = await derivePassphraseKey('correct horse battery staple', salt, { t: 2, m: 4096, p: 1 });
  const ref = await hashRaw('correct horse battery staple', { salt: Buffer.from(salt), timeCost: 2, memoryCost: 4096, parallelism: 1, outputLen: 32, algorithm: Algorithm.Argon2id });
  assert.equal(toHex(ours), ref.toString('hex'));
  // NFKC: the same passphrase typed with a composed or decomposed "é" gives the same key.
  assert.equal(toHex(await derivePassphraseKey('caf\u00e9 au lait!', salt, FAST)), toHex(await derivePassphraseKey('cafe\u0301 au lait!', salt, FAST)));
});

test('account key wrapped under the backup key; wrong key or altered blob → wrong_recovery_key', async () => {
  const bk = newBackupKey();
  const pkcs8 = fromHex('302e020100300506032b657004220420' + '11'.repeat(32));
  const blob = await wrapAccountKey(bk, pkcs8);
  assert.equal(toHex(await unwrapAccountKey(bk, blob)), toHex(pkcs8));
  await assert.rejects(unwrapAccountKey(newBackupKey(), blob), { code: 'wrong_recovery_key' });
  for (const at of [2, 10, blob.length - 1]) {
    const bad = blob.slice();
    bad[at] ^= 1;
    await assert.rejects(unwrapAccountKey(bk, bad), { code: 'wrong_recovery_key' });
  }
  const asArchive = blob.slice();
  asArchive[1] = 2;
  await assert.rejects(unwrapArchiveRecord(bk, asArchive), { code: 'wrong_recovery_key' }, 'a blob relabelled as another kind does not open');
  await assert.rejects(unwrapAccountKey(bk, asArchive), { code: 'malformed' });
});

test('passphrase wrap: minimum length, right/wrong passphrase, tampered parameters', async () => {
  const bk = newBackupKey();
  await assert.rejects(wrapBackupKeyWithPassphrase(bk, 'short pass', { params: FAST }), { code: 'weak_passphrase' });
  const blob = await wrapBackupKeyWithPassphrase(bk, 'a long enough passphrase', { params: FAST });
  assert.deepEqual(passphraseBlobParams(blob).params, FAST);
  assert.equal(toHex(await unwrapBackupKeyWithPassphrase(blob, 'a long enough passphrase')), toHex(bk));
  await assert.rejects(unwrapBackupKeyWithPassphrase(blob, 'a long enough passphrasE'), { code: 'wrong_recovery_key' });
  const cheaper = blob.slice();
  cheaper[5] ^= 1; // low byte of t: 1 → 0 passes, out of range
  await assert.rejects(unwrapBackupKeyWithPassphrase(cheaper, 'a long enough passphrase'), { code: 'malformed' });
  const otherSalt = blob.slice();
  otherSalt[20] ^= 1;
  await assert.rejects(unwrapBackupKeyWithPassphrase(otherSalt, 'a long enough passphrase'), { code: 'wrong_recovery_key' });
});

test('default Argon2id parameters (t=3, 64 MiB) run in Node; a key computed elsewhere (a Worker) is accepted', async () => {
  const salt = new Uint8Array(16).fill(9);
  const derivedKey = await derivePassphraseKey('a long enough passphrase', salt);
  const blob = await wrapBackupKeyWithPassphrase(new Uint8Array(32).fill(5), 'a long enough passphrase', { salt, derivedKey });
  assert.deepEqual(passphraseBlobParams(blob), { params: DEFAULT_ARGON2, salt });
  assert.equal(toHex(await unwrapBackupKeyWithPassphrase(blob, '', { derivedKey })), '05'.repeat(32));
  await assert.rejects(unwrapBackupKeyWithPassphrase(blob, '', { derivedKey: new Uint8Array(32) }), { code: 'wrong_recovery_key' });
});

test('a new device restores the account key from the recovery key and reads history from the archive', async () => {
  const alice = await makeClient('alice');
  const bob = await makeClient('bob');
  const bk = newBackupKey();
  const recoveryText = await encodeRecoveryKey(bk);
  const accountBlob = await wrapAccountKey(bk, alice.account.privateKeyPkcs8);

  let ag = await MlsGroup.create(alice.device, conversationGroupId('conv-history'), alice.pins);
  const c = await ag.add([{ userId: 'bob', keyPackage: bob.keyPackages[0].keyPackage }]);
  ag = c.accept();
  let bg = (await MlsGroup.join(bob.device, c.welcome!, bob.keyPackages, bob.pins)).group;
  const history: Uint8Array[] = [];
  const archive: Uint8Array[] = [];
  for (let epoch = 0; epoch < 3; epoch++) {
    const keys = await ag.epochKeys();
    archive.push(await wrapArchiveRecord(bk, { type: 'epoch-keys', keys }));
    history.push((await sealEnvelope({ keys: await bg.epochKeys(), sender: bob.device, channel: '', content: { kind: 'text', text: `msg ${epoch}` }, pins: bob.pins })).envelope);
    const u = await ag.selfUpdate();
    ag = u.accept();
    bg = (await bg.process(u.commit)).group;
  }
  archive.push(await wrapArchiveRecord(bk, { type: 'group-state', groupId: ag.groupId, epoch: ag.epoch, state: ag.encode() }));

  // New browser: the user types the recovery key.
  const restoredBk = await decodeRecoveryKey(recoveryText.toLowerCase());
  const account = await importAccountKey(await unwrapAccountKey(restoredBk, accountBlob));
  assert.equal(toHex(account.publicKey), toHex(alice.account.publicKey));
  const newDevice = await createDevice(account, 'alice', 'alice-browser-2');
  const records = await Promise.all(archive.map((b) => unwrapArchiveRecord(restoredBk, b)));
  const epochKeys = new Map(records.flatMap((r) => (r.type === 'epoch-keys' ? [[r.keys.epoch, r.keys] as const] : [])));
  const replay = new ReplayWindow();
  const texts = [];
  for (const envelope of history) {
    const m = await openEnvelope({ envelope, groupId: conversationGroupId('conv-history'), channel: '', keysFor: (e) => epochKeys.get(e), replay });
    texts.push((m.content as { text: string }).text);
  }
  assert.deepEqual(texts, ['msg 0', 'msg 1', 'msg 2']);
  const stateRecord = records.find((r) => r.type === 'group-state');
  assert.ok(stateRecord && stateRecord.type === 'group-state' && stateRecord.epoch === 4n);
  // The new device's certificate chains to the same account key, so bob adds it without a key-change warning.
  const [kp] = await generateKeyPackages(newDevice, 1);
  const add = await bg.add([{ userId: 'alice', keyPackage: kp.keyPackage }]);
  bg = add.accept();
  assert.equal(bg.members().filter((m) => m.userId === 'alice').length, 2);
  assert.equal((await bob.pins.get('alice'))!.pendingKey, undefined);
});
