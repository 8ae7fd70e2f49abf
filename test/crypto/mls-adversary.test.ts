// A misbehaving server or member against our MLS wrapper: uncertified devices injected by commit or Welcome, swapped KeyPackages, changed account keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createCommit,
  createGroup,
  decodeMlsMessage,
  defaultCapabilities,
  defaultLifetime,
  encodeMlsMessage,
  generateKeyPackage,
  generateKeyPackageWithKey,
  type KeyPackage,
} from 'ts-mls';
import { MlsGroup, conversationGroupId, generateKeyPackages } from '../../web-client/src/crypto/mls.ts';
import { createAccountKey, createDevice, type DeviceIdentity } from '../../web-client/src/crypto/identity.ts';
import { openEnvelope, ReplayWindow, sealEnvelope } from '../../web-client/src/crypto/envelope.ts';
import { acknowledgeKeyChange } from '../../web-client/src/crypto/pins.ts';
import { mlsSuite } from '../../web-client/src/crypto/provider.ts';
import { makeClient } from './mls-helpers.ts';

function kpOf(bytes: Uint8Array): KeyPackage {
  const m = decodeMlsMessage(bytes, 0)![0];
  if (m.wireformat !== 'mls_key_package') throw new Error('not a key package');
  return m.keyPackage;
}

/** A group owner running unmodified ts-mls (accepts any credential): what a malicious client could send. */
async function rawOwner(device: DeviceIdentity) {
  const cs = await mlsSuite();
  const own = await generateKeyPackageWithKey({ credentialType: 'basic', identity: device.certificate }, defaultCapabilities(), defaultLifetime, [], {
    signKey: device.signaturePrivateKey,
    publicKey: device.signaturePublicKey,
  }, cs);
  let state = await createGroup(conversationGroupId('conv-evil'), own.publicPackage, own.privatePackage, [], cs);
  return {
    async add(kps: KeyPackage[]) {
      const r = await createCommit({ state, cipherSuite: cs }, { extraProposals: kps.map((keyPackage) => ({ proposalType: 'add' as const, add: { keyPackage } })), ratchetTreeExtension: true });
      state = r.newState;
      return {
        commit: encodeMlsMessage(r.commit),
        welcome: r.welcome && encodeMlsMessage({ welcome: r.welcome, wireformat: 'mls_welcome', version: 'mls10' }),
      };
    },
  };
}

async function uncertifiedKeyPackage(identity: Uint8Array): Promise<KeyPackage> {
  return (await generateKeyPackage({ credentialType: 'basic', identity }, defaultCapabilities(), defaultLifetime, [], await mlsSuite())).publicPackage;
}

test('a commit that adds a device without a valid certificate is refused by every honest member', async () => {
  const alice = await makeClient('alice');
  const bob = await makeClient('bob');
  const owner = await rawOwner(alice.device);
  const first = await owner.add([kpOf(bob.keyPackages[0].keyPackage)]);
  bob.group = (await MlsGroup.join(bob.device, first.welcome!, bob.keyPackages, bob.pins)).group;
  const before = bob.group.epoch;
  const injected = await owner.add([await uncertifiedKeyPackage(new TextEncoder().encode('mallory'))]);
  await assert.rejects(bob.group.process(injected.commit), (e: any) => e.code === 'member_refused' && e.details.refusals[0].reason === 'invalid_certificate');
  assert.equal(bob.group.epoch, before, 'the refused commit changed nothing');
});

test('a Welcome into a tree holding an uncertified member is refused', async () => {
  const alice = await makeClient('alice');
  const bob = await makeClient('bob');
  const owner = await rawOwner(alice.device);
  // Mallory reuses alice's real certificate but her own signature key: the certificate does not cover it.
  const w = await owner.add([kpOf(bob.keyPackages[0].keyPackage), await uncertifiedKeyPackage(alice.device.certificate)]);
  await assert.rejects(MlsGroup.join(bob.device, w.welcome!, bob.keyPackages, bob.pins), (e: any) => e.code === 'member_refused' && e.details.refusals.some((r: any) => r.reason === 'key_mismatch'));
});

test('swapped KeyPackages are refused before any commit is made', async () => {
  const alice = await makeClient('alice');
  const bob = await makeClient('bob');
  const carol = await makeClient('carol');
  alice.group = await MlsGroup.create(alice.device, conversationGroupId('conv-swap'), alice.pins);
  // The directory hands out carol's package when alice asked for bob.
  await assert.rejects(alice.group.add([{ userId: 'bob', keyPackage: carol.keyPackages[0].keyPackage }]), (e: any) => e.code === 'member_refused' && e.details.refusals[0].reason === 'wrong_user');
  // A server-made package carrying bob's certificate but the server's own key.
  const forged = encodeMlsMessage({ keyPackage: await uncertifiedKeyPackage(bob.device.certificate), wireformat: 'mls_key_package', version: 'mls10' });
  await assert.rejects(alice.group.add([{ userId: 'bob', keyPackage: forged }]), (e: any) => e.code === 'member_refused' && e.details.refusals[0].reason === 'key_mismatch');
  // Bob's real package with a flipped byte: its MLS signature no longer verifies.
  const tampered = bob.keyPackages[0].keyPackage.slice();
  tampered[tampered.length - 10] ^= 1;
  await assert.rejects(alice.group.add([{ userId: 'bob', keyPackage: tampered }]), (e: any) => ['mls_rejected', 'member_refused', 'malformed'].includes(e.code));
  // The group is still usable with the genuine package.
  const ok = await alice.group.add([{ userId: 'bob', keyPackage: bob.keyPackages[0].keyPackage }]);
  assert.equal(ok.accept().members().length, 2);
});

test('a new account key for a known user is reported and blocks sending until acknowledged', async () => {
  const alice = await makeClient('alice');
  const bob = await makeClient('bob');
  alice.group = await MlsGroup.create(alice.device, conversationGroupId('conv-tofu'), alice.pins);
  const c1 = await alice.group.add([{ userId: 'bob', keyPackage: bob.keyPackages[0].keyPackage }]);
  alice.group = c1.accept();
  // The server (or a reset account) presents a second "bob" device certified by a different account key.
  const fakeBob = await createDevice(await createAccountKey(), 'bob', 'bob-new');
  const [fakeKp] = await generateKeyPackages(fakeBob, 1);
  const c2 = await alice.group.add([{ userId: 'bob', keyPackage: fakeKp.keyPackage }]);
  alice.group = c2.accept();
  const keys = await alice.group.epochKeys();
  await assert.rejects(sealEnvelope({ keys, sender: alice.device, channel: '', content: { kind: 'text', text: 'hi' }, pins: alice.pins }), (e: any) => e.code === 'send_blocked' && e.details.userIds[0] === 'bob');
  await acknowledgeKeyChange(alice.pins, 'bob');
  await sealEnvelope({ keys, sender: alice.device, channel: '', content: { kind: 'text', text: 'hi' }, pins: alice.pins });

  // Carol, a third member, sees the change while processing the commit and gets it in keyChanges.
  const carol = await makeClient('carol');
  const dave = await makeClient('dave');
  carol.group = await MlsGroup.create(carol.device, conversationGroupId('conv-tofu2'), carol.pins);
  const d1 = await carol.group.add([{ userId: 'dave', keyPackage: dave.keyPackages[0].keyPackage }, { userId: 'bob', keyPackage: bob.keyPackages[1].keyPackage }]);
  carol.group = d1.accept();
  dave.group = (await MlsGroup.join(dave.device, d1.welcome!, dave.keyPackages, dave.pins)).group;
  const [fakeKp2] = await generateKeyPackages(fakeBob, 1);
  const d2 = await carol.group.add([{ userId: 'bob', keyPackage: fakeKp2.keyPackage }]);
  carol.group = d2.accept();
  const seen = await dave.group.process(d2.commit);
  assert.equal(seen.keyChanges.length, 1);
  assert.equal(seen.keyChanges[0].userId, 'bob');
});

test('a Welcome delivered for the wrong conversation is refused; a duplicate device id cannot hijack attribution', async () => {
  const alice = await makeClient('alice');
  const bob = await makeClient('bob');
  alice.group = await MlsGroup.create(alice.device, conversationGroupId('conv-real'), alice.pins);
  const c = await alice.group.add([{ userId: 'bob', keyPackage: bob.keyPackages[0].keyPackage }]);
  alice.group = c.accept();
  await assert.rejects(MlsGroup.join(bob.device, c.welcome!, bob.keyPackages, bob.pins, { expectedGroupId: conversationGroupId('conv-other') }), { code: 'wrong_group' });
  bob.group = (await MlsGroup.join(bob.device, c.welcome!, bob.keyPackages, bob.pins, { expectedGroupId: conversationGroupId('conv-real') })).group;
  // Carol's own account certifies a device she names like bob's.
  const carolAccount = await createAccountKey();
  const carolDevice = await createDevice(carolAccount, 'carol', bob.device.deviceId);
  const [carolKp] = await generateKeyPackages(carolDevice, 1);
  const c2 = await alice.group.add([{ userId: 'carol', keyPackage: carolKp.keyPackage }]);
  alice.group = c2.accept();
  bob.group = (await bob.group.process(c2.commit)).group;
  const keys = await alice.group.epochKeys();
  assert.equal(keys.roster.filter((m) => m.deviceId === bob.device.deviceId).length, 2);
  for (const [device, userId] of [[bob.device, 'bob'], [carolDevice, 'carol']] as const) {
    const s = await sealEnvelope({ keys, sender: device, channel: '', content: { kind: 'text', text: 'who am I' }, pins: device === bob.device ? bob.pins : alice.pins });
    const m = await openEnvelope({ envelope: s.envelope, groupId: keys.groupId, channel: '', keysFor: () => keys, replay: new ReplayWindow() });
    assert.equal(m.sender.userId, userId);
  }
});
