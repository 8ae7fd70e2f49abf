/** Scenario code shared by the Node and Chromium crypto benchmarks (runs unchanged in both). */
import {
  conversationGroupId,
  createAccountKey,
  createDevice,
  generateKeyPackages,
  MemoryPinStore,
  MlsGroup,
  openEnvelope,
  ReplayWindow,
  sealEnvelope,
} from '../../web-client/src/crypto/index.ts';

export interface MessageFigures {
  messages: number;
  /** Mean cost per message, ms. */
  sealMs: number;
  openMs: number;
  envelopeBytes: number;
}

/** Two members; `n` text messages of ~200 characters sealed by one and opened by the other. */
export async function messageCost(n: number): Promise<MessageFigures> {
  const pins = new MemoryPinStore();
  const alice = await createDevice(await createAccountKey(), 'alice', 'alice-1');
  const bob = await createDevice(await createAccountKey(), 'bob', 'bob-1');
  const bobKps = await generateKeyPackages(bob, 1);
  let a = await MlsGroup.create(alice, conversationGroupId('bench-conv'), pins);
  const add = await a.add([{ userId: 'bob', keyPackage: bobKps[0].keyPackage }]);
  a = add.accept();
  const b = (await MlsGroup.join(bob, add.welcome!, bobKps, new MemoryPinStore())).group;
  const aKeys = await a.epochKeys();
  const bKeys = await b.epochKeys();
  const replay = new ReplayWindow();
  const text = 'The quick brown fox jumps over the lazy dog. '.repeat(5).slice(0, 200);
  // Warm-up: key derivation caches and JIT.
  for (let i = 0; i < 20; i++) {
    const s = await sealEnvelope({ keys: aKeys, sender: alice, channel: '', content: { kind: 'text', text }, pins });
    await openEnvelope({ envelope: s.envelope, groupId: aKeys.groupId, channel: '', keysFor: () => bKeys, replay });
  }
  let sealMs = 0;
  let openMs = 0;
  let envelopeBytes = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const s = await sealEnvelope({ keys: aKeys, sender: alice, channel: '', content: { kind: 'text', text }, pins });
    const t1 = performance.now();
    await openEnvelope({ envelope: s.envelope, groupId: aKeys.groupId, channel: '', keysFor: () => bKeys, replay });
    const t2 = performance.now();
    sealMs += t1 - t0;
    openMs += t2 - t1;
    envelopeBytes = s.envelope.length;
  }
  return { messages: n, sealMs: sealMs / n, openMs: openMs / n, envelopeBytes };
}
