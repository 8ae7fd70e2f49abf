// RFC 9420 interoperability vectors (mlswg, suite 1) against the pinned ts-mls: tree math, crypto basics, key schedule, passive client (welcome, handling commit, random).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeMlsMessage, joinGroup, makePskIndex, processMessage, acceptAll, type ClientState } from 'ts-mls';
import { left, parent, right, root, sibling, toNodeIndex } from 'ts-mls/treemath.js';
import { deriveSecret, deriveTreeSecret, expandWithLabel } from 'ts-mls/crypto/kdf.js';
import { refhash } from 'ts-mls/crypto/hash.js';
import { signWithLabel, verifyWithLabel } from 'ts-mls/crypto/signature.js';
import { decryptWithLabel } from 'ts-mls/crypto/hpke.js';
import { initializeEpoch } from 'ts-mls/keySchedule.js';
import { decodeGroupContext } from 'ts-mls/groupContext.js';
import { decodeRatchetTree } from 'ts-mls/ratchetTree.js';
import { bytesToBase64 } from 'ts-mls';
import { fromHex, toHex } from '../../web-client/src/crypto/bytes.ts';
import { mlsSuite } from '../../web-client/src/crypto/provider.ts';

const load = (name: string) => JSON.parse(readFileSync(new URL(`../vectors/mls/${name}`, import.meta.url), 'utf8'));
const pinned = JSON.parse(readFileSync(new URL('../../node_modules/ts-mls/package.json', import.meta.url), 'utf8')).version;

test('ts-mls is the pinned version', () => {
  assert.equal(pinned, '1.6.4');
});

test('tree math (RFC 9420 Appendix C)', () => {
  for (const v of load('tree-math.json')) {
    assert.equal(root(v.n_leaves), v.root);
    for (let i = 0; i < v.n_nodes; i++) {
      const x = toNodeIndex(i);
      if (v.left[i] !== null) assert.equal(left(x), v.left[i], `left(${i}) n=${v.n_leaves}`);
      if (v.right[i] !== null) assert.equal(right(x), v.right[i], `right(${i})`);
      if (v.parent[i] !== null) assert.equal(parent(x, v.n_leaves), v.parent[i], `parent(${i})`);
      if (v.sibling[i] !== null) assert.equal(sibling(x, v.n_leaves), v.sibling[i], `sibling(${i})`);
    }
  }
});

test('crypto basics, suite 1', async () => {
  const cs = await mlsSuite();
  const [v] = load('crypto-basics.json');
  const h = fromHex;
  assert.equal(toHex(await refhash(v.ref_hash.label, h(v.ref_hash.value), cs.hash)), v.ref_hash.out);
  assert.equal(toHex(await expandWithLabel(h(v.expand_with_label.secret), v.expand_with_label.label, h(v.expand_with_label.context), v.expand_with_label.length, cs.kdf)), v.expand_with_label.out);
  assert.equal(toHex(await deriveSecret(h(v.derive_secret.secret), v.derive_secret.label, cs.kdf)), v.derive_secret.out);
  assert.equal(toHex(await deriveTreeSecret(h(v.derive_tree_secret.secret), v.derive_tree_secret.label, v.derive_tree_secret.generation, v.derive_tree_secret.length, cs.kdf)), v.derive_tree_secret.out);
  const s = v.sign_with_label;
  assert.equal(await verifyWithLabel(h(s.pub), s.label, h(s.content), h(s.signature), cs.signature), true);
  assert.equal(toHex(await signWithLabel(h(s.priv), s.label, h(s.content), cs.signature)), s.signature, 'Ed25519 is deterministic');
  const e = v.encrypt_with_label;
  const priv = await cs.hpke.importPrivateKey(h(e.priv));
  assert.equal(toHex(await decryptWithLabel(priv, e.label, h(e.context), h(e.kem_output), h(e.ciphertext), cs.hpke)), e.plaintext);
});

test('key schedule, suite 1 (five epochs)', async () => {
  const cs = await mlsSuite();
  const [v] = load('key-schedule.json');
  let initSecret = fromHex(v.initial_init_secret);
  for (const [i, ep] of v.epochs.entries()) {
    const decoded = decodeGroupContext(fromHex(ep.group_context), 0);
    assert.ok(decoded);
    const gc = decoded[0];
    assert.equal(toHex(gc.groupId), v.group_id);
    assert.equal(gc.epoch, BigInt(i));
    assert.equal(toHex(gc.treeHash), ep.tree_hash);
    assert.equal(toHex(gc.confirmedTranscriptHash), ep.confirmed_transcript_hash);
    const s = await initializeEpoch(initSecret, fromHex(ep.commit_secret), gc, fromHex(ep.psk_secret), cs.kdf);
    assert.equal(toHex(s.joinerSecret), ep.joiner_secret, `epoch ${i} joiner`);
    assert.equal(toHex(s.welcomeSecret), ep.welcome_secret);
    assert.equal(toHex(s.encryptionSecret), ep.encryption_secret);
    const ks = s.keySchedule;
    for (const [field, key] of [
      ['sender_data_secret', 'senderDataSecret'],
      ['exporter_secret', 'exporterSecret'],
      ['epoch_authenticator', 'epochAuthenticator'],
      ['external_secret', 'externalSecret'],
      ['confirmation_key', 'confirmationKey'],
      ['membership_key', 'membershipKey'],
      ['resumption_psk', 'resumptionPsk'],
      ['init_secret', 'initSecret'],
    ] as const) {
      assert.equal(toHex(ks[key]), ep[field], `epoch ${i} ${field}`);
    }
    initSecret = ks.initSecret;
  }
});

/** Joins from the Welcome and follows every epoch, comparing epoch authenticators (RFC 9420 test-vectors.md "passive client"). */
async function runPassive(v: any, maxEpochs = Infinity): Promise<number> {
  const cs = await mlsSuite();
  const msg = (hex: string) => decodeMlsMessage(fromHex(hex), 0)![0];
  const kpMsg = msg(v.key_package);
  const welcomeMsg = msg(v.welcome);
  assert.equal(kpMsg.wireformat, 'mls_key_package');
  assert.equal(welcomeMsg.wireformat, 'mls_welcome');
  if (kpMsg.wireformat !== 'mls_key_package' || welcomeMsg.wireformat !== 'mls_welcome') return 0;
  const psks: Record<string, Uint8Array> = {};
  for (const p of v.external_psks) psks[bytesToBase64(fromHex(p.psk_id))] = fromHex(p.psk);
  const tree = v.ratchet_tree ? decodeRatchetTree(fromHex(v.ratchet_tree), 0)![0] : undefined;
  let state: ClientState = await joinGroup(
    welcomeMsg.welcome,
    kpMsg.keyPackage,
    { initPrivateKey: fromHex(v.init_priv), hpkePrivateKey: fromHex(v.encryption_priv), signaturePrivateKey: fromHex(v.signature_priv) },
    makePskIndex(undefined, psks),
    cs,
    tree,
  );
  assert.equal(toHex(state.keySchedule.epochAuthenticator), v.initial_epoch_authenticator);
  const epochs = v.epochs.slice(0, maxEpochs);
  for (const [i, ep] of epochs.entries()) {
    for (const p of ep.proposals) {
      const m = msg(p);
      if (m.wireformat !== 'mls_private_message' && m.wireformat !== 'mls_public_message') throw new Error('unexpected proposal wireformat');
      state = (await processMessage(m, state, makePskIndex(state, psks), acceptAll, cs)).newState;
    }
    const c = msg(ep.commit);
    if (c.wireformat !== 'mls_private_message' && c.wireformat !== 'mls_public_message') throw new Error('unexpected commit wireformat');
    state = (await processMessage(c, state, makePskIndex(state, psks), acceptAll, cs)).newState;
    assert.equal(toHex(state.keySchedule.epochAuthenticator), ep.epoch_authenticator, `epoch ${i + 1}`);
  }
  return epochs.length;
}

test('passive client: welcome (suite 1, with and without ratchet_tree, with external PSKs)', async () => {
  for (const v of load('passive-client-welcome.json')) await runPassive(v);
});

test('passive client: handling commit (suite 1)', async () => {
  for (const v of load('passive-client-handling-commit.json')) assert.ok((await runPassive(v)) > 0);
});

/** The random scenario costs ~30 s of CPU for all 200 epochs; by default the first 60 (set CHATROOM_TEST_FULL_MLS=1 for all). */
const RANDOM_EPOCHS = process.env.CHATROOM_TEST_FULL_MLS === '1' ? 200 : 60;

test(`passive client: random (suite 1, first ${RANDOM_EPOCHS} of 200 epochs of adds, removes, updates)`, async () => {
  const [v] = load('passive-client-random.json');
  assert.equal(v.epochs.length, 200);
  assert.equal(await runPassive(v, RANDOM_EPOCHS), RANDOM_EPOCHS);
});
