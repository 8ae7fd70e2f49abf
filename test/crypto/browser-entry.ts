// Bundled by browser.test.ts and run in Chromium under the strict CSP: the same crypto code as in Node, checked against the same vectors.
import golden from '../vectors/envelope-v1.json' with { type: 'json' };
import {
  assertCryptoSupport,
  conversationGroupId,
  createAccountKey,
  createDevice,
  decodeRecoveryKey,
  encodeRecoveryKey,
  generateKeyPackages,
  MemoryPinStore,
  MlsGroup,
  openEnvelope,
  ReplayWindow,
  safetyNumber,
  sealEnvelope,
} from '../../web-client/src/crypto/index.ts';
import { runPassphraseKdf } from '../../web-client/src/crypto/recovery-worker.ts';
import { fromHex, toHex } from '../../web-client/src/crypto/bytes.ts';
import { fixedEpoch } from './envelope-fixture.ts';

async function run() {
  await assertCryptoSupport();
  const { alice, keys } = await fixedEpoch();
  const goldenMatches: boolean[] = [];
  for (const c of golden.cases) {
    const s = await sealEnvelope({
      keys, sender: alice.device, channel: c.channel, content: c.content as never, pins: new MemoryPinStore(),
      now: c.sentAt, messageId: fromHex(c.messageId), iv: fromHex(c.iv),
    });
    goldenMatches.push(toHex(s.envelope) === c.envelope);
  }
  const users = await Promise.all(['alice', 'bob', 'carol'].map(async (u) => ({ u, device: await createDevice(await createAccountKey(), u, `${u}-b`), pins: new MemoryPinStore() })));
  const kps = await Promise.all(users.map((x) => generateKeyPackages(x.device, 1)));
  let a = await MlsGroup.create(users[0].device, conversationGroupId('conv-browser'), users[0].pins);
  const add = await a.add([1, 2].map((i) => ({ userId: users[i].u, keyPackage: kps[i][0].keyPackage })));
  a = add.accept();
  const joined = await Promise.all([1, 2].map(async (i) => (await MlsGroup.join(users[i].device, add.welcome!, kps[i], users[i].pins)).group));
  const sent = await sealEnvelope({ keys: await joined[0].epochKeys(), sender: users[1].device, channel: '', content: { kind: 'text', text: 'hi from bob' }, pins: users[1].pins });
  const received = [];
  for (const g of [a, joined[1]]) {
    const k = await g.epochKeys();
    const m = await openEnvelope({ envelope: sent.envelope, groupId: k.groupId, channel: '', keysFor: () => k, replay: new ReplayWindow() });
    received.push(m.content.kind === 'text' ? m.content.text : '?');
  }
  const tampered = sent.envelope.slice();
  tampered[tampered.length - 1] ^= 1;
  let tamperCode = 'accepted';
  try {
    const k = await a.epochKeys();
    await openEnvelope({ envelope: tampered, groupId: k.groupId, channel: '', keysFor: () => k, replay: new ReplayWindow() });
  } catch (err) {
    tamperCode = (err as { code?: string }).code ?? String(err);
  }
  const sn = safetyNumber({ userId: 'alice', accountKey: new Uint8Array(32).fill(0x0a) }, { userId: 'bob', accountKey: new Uint8Array(32).fill(0x0b) }).digits;
  const rk = new Uint8Array(32).fill(0x42);
  const rkRoundTrip = toHex(await decodeRecoveryKey(await encodeRecoveryKey(rk))) === toHex(rk);
  const worker = new Worker('/worker.js', { type: 'module' });
  const kdf = toHex(await runPassphraseKdf(worker, 'correct horse battery staple', new Uint8Array(16).fill(7), { t: 2, m: 4096, p: 1 }));
  worker.terminate();
  return { goldenMatches, received, tamperCode, sn, rkRoundTrip, kdf };
}

// The test waits for this console line: the CSP forbids the string evaluation a polling wait would use.
run().then(
  (r) => {
    (window as unknown as { __result: unknown }).__result = r;
    console.log('crypto-browser-done');
  },
  (err: unknown) => {
    (window as unknown as { __result: unknown }).__result = { error: String(err) };
    console.log('crypto-browser-done');
  },
);
