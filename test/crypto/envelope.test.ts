// Content envelope v1: golden vectors (byte-exact, cross-checked with node:crypto), fast-check tamper/move properties, replay, padding, send blocking, rotation policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv, createPublicKey, hkdfSync, verify as nodeVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { concat, fromHex, toHex } from '../../web-client/src/crypto/bytes.ts';
import { decodeContent, encodeContent, type MessageContent } from '../../web-client/src/crypto/content.ts';
import { encodeHeader, openEnvelope, readEnvelopeHeader, ReplayWindow, sealEnvelope, type EnvelopeHeader } from '../../web-client/src/crypto/envelope.ts';
import type { EpochKeys } from '../../web-client/src/crypto/mls.ts';
import { bucketFor, pad, PADDING_BUCKETS, unpad } from '../../web-client/src/crypto/padding.ts';
import { checkPin, MemoryPinStore } from '../../web-client/src/crypto/pins.ts';
import { shouldRotateEpoch } from '../../web-client/src/crypto/rotation.ts';
import { fixedEpoch } from './envelope-fixture.ts';

const golden = JSON.parse(readFileSync(new URL('../vectors/envelope-v1.json', import.meta.url), 'utf8'));

function opener(keys: EpochKeys, channel = '', replay = new ReplayWindow()) {
  return (envelope: Uint8Array, over: { groupId?: Uint8Array; channel?: string; keysFor?: (e: bigint) => EpochKeys | undefined } = {}) =>
    openEnvelope({
      envelope,
      groupId: over.groupId ?? keys.groupId,
      channel: over.channel ?? channel,
      keysFor: over.keysFor ?? ((e) => (e === keys.epoch ? keys : undefined)),
      replay,
    });
}

test('golden vectors: fixed keys and nonces give exactly the recorded bytes, and they open', async () => {
  const { alice, keys } = await fixedEpoch();
  assert.equal(toHex(keys.groupId), golden.groupId);
  assert.equal(toHex(alice.device.signaturePublicKey), golden.senderPublicKey);
  for (const c of golden.cases) {
    const sealed = await sealEnvelope({
      keys, sender: alice.device, channel: c.channel, content: c.content, pins: new MemoryPinStore(),
      now: c.sentAt, messageId: fromHex(c.messageId), iv: fromHex(c.iv),
    });
    assert.equal(toHex(sealed.envelope), c.envelope, `${c.content.kind} bytes`);
    const opened = await opener(keys, c.channel)(fromHex(c.envelope));
    assert.deepEqual(opened.content, c.content);
    assert.equal(opened.id, c.messageId);
    assert.equal(opened.sender.deviceId, 'dev-alice');
  }
});

test('golden vectors check out with an independent implementation (node:crypto HKDF, AES-GCM, Ed25519)', () => {
  const groupId = Buffer.from(golden.groupId, 'hex');
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(golden.senderPublicKey, 'hex')]);
  const pub = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  for (const c of golden.cases) {
    const wire = Buffer.from(c.envelope, 'hex');
    const channel = Buffer.from(c.channel, 'utf8');
    const key = Buffer.from(hkdfSync('sha256', Buffer.from(golden.contentSecret, 'hex'), groupId, Buffer.concat([Buffer.from('chatroom v1 channel'), channel]), 32));
    assert.equal(key.toString('hex'), c.channelKey);
    const headerLen = 1 + 1 + groupId.length + 8 + 1 + channel.length + 1 + 'dev-alice'.length + 16 + 8;
    const header = wire.subarray(0, headerLen);
    assert.equal(header[0], 1);
    assert.equal(header.readBigUInt64BE(1 + 1 + groupId.length), 5n);
    const iv = wire.subarray(headerLen, headerLen + 12);
    assert.equal(iv.toString('hex'), c.iv);
    const ctLen = wire.readUInt32BE(headerLen + 12);
    const ct = wire.subarray(headerLen + 16, headerLen + 16 + ctLen);
    const sig = wire.subarray(headerLen + 16 + ctLen);
    assert.equal(sig.length, 64);
    assert.ok(nodeVerify(null, Buffer.concat([Buffer.from('chatroom v1 sig'), wire.subarray(0, headerLen + 16 + ctLen)]), pub, sig));
    const d = createDecipheriv('aes-256-gcm', key, iv);
    d.setAAD(header);
    d.setAuthTag(ct.subarray(ct.length - 16));
    const padded = Buffer.concat([d.update(ct.subarray(0, ct.length - 16)), d.final()]);
    assert.ok(PADDING_BUCKETS.includes(padded.length));
    const n = padded.readUInt32BE(0);
    assert.deepEqual(JSON.parse(padded.subarray(4, 4 + n).toString('utf8')), c.content);
  }
});

test('property: any single bit flip anywhere (header, IV, body, tag, signature) is rejected', async () => {
  const { alice, keys } = await fixedEpoch();
  const sealed = await sealEnvelope({ keys, sender: alice.device, channel: '', content: { kind: 'text', text: 'tamper me' }, pins: new MemoryPinStore() });
  const wire = sealed.envelope;
  // Every bit of a region boundary is covered explicitly, the rest by random sampling.
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: wire.length * 8 - 1 }), async (bit) => {
      const bad = wire.slice();
      bad[bit >> 3] ^= 1 << (bit & 7);
      await assert.rejects(opener(keys)(bad), (e: any) => typeof e.code === 'string');
    }),
    { numRuns: 300 },
  );
  const headerLen = encodeHeader(sealed.header).length;
  for (const at of [0, 5, headerLen - 1, headerLen, headerLen + 11, headerLen + 12, headerLen + 16, wire.length - 65, wire.length - 80, wire.length - 64, wire.length - 1]) {
    const bad = wire.slice();
    bad[at] ^= 0x80;
    await assert.rejects(opener(keys)(bad), (e: any) => typeof e.code === 'string', `byte ${at}`);
  }
  await assert.rejects(opener(keys)(wire.subarray(0, wire.length - 1)), { code: 'malformed' });
  await assert.rejects(opener(keys)(concat(wire, new Uint8Array(1))), { code: 'malformed' });
});

/** Re-frames an envelope with a changed header but the original IV, ciphertext and signature. */
function reframe(wire: Uint8Array, change: Partial<EnvelopeHeader>): Uint8Array {
  const h = readEnvelopeHeader(wire);
  const oldLen = encodeHeader(h).length;
  return concat(encodeHeader({ ...h, ...change }), wire.subarray(oldLen));
}

test('property: an envelope moved to another conversation, channel, sender or epoch is rejected', async () => {
  const { alice, bob, keys } = await fixedEpoch();
  const otherGroup = new TextEncoder().encode('conv-other');
  const nextEpoch: EpochKeys = { ...keys, epoch: 6n, contentSecret: new Uint8Array(32).fill(9) };
  await fc.assert(
    fc.asyncProperty(
      fc.string({ maxLength: 40 }),
      fc.constantFrom('', 'chan-a', 'chan-b'),
      fc.constantFrom('conversation', 'channel', 'sender', 'epoch', 'deliveredElsewhere', 'deliveredOtherChannel'),
      async (text, channel, move) => {
        const sealed = await sealEnvelope({ keys, sender: alice.device, channel, content: { kind: 'text', text }, pins: new MemoryPinStore() });
        const open = opener(keys, channel);
        const otherChannel = channel === 'chan-a' ? 'chan-b' : 'chan-a';
        const both = (e: bigint) => (e === 5n ? keys : e === 6n ? nextEpoch : undefined);
        const attempt = {
          conversation: () => open(reframe(sealed.envelope, { groupId: otherGroup }), { groupId: otherGroup, keysFor: () => ({ ...keys, groupId: otherGroup }) }),
          channel: () => open(reframe(sealed.envelope, { channel: otherChannel }), { channel: otherChannel }),
          sender: () => open(reframe(sealed.envelope, { senderDeviceId: bob.device.deviceId })),
          epoch: () => open(reframe(sealed.envelope, { epoch: 6n }), { keysFor: both }),
          deliveredElsewhere: () => open(sealed.envelope, { groupId: otherGroup }),
          deliveredOtherChannel: () => open(sealed.envelope, { channel: otherChannel }),
        }[move];
        await assert.rejects(attempt(), (e: any) => ['bad_signature', 'wrong_group', 'wrong_channel', 'decrypt_failed'].includes(e.code), move);
        assert.equal(((await open(sealed.envelope)).content as { text: string }).text, text, 'the original still opens');
      },
    ),
    { numRuns: 60 },
  );
});

test('replays are dropped per group; unknown epochs and senders are typed', async () => {
  const { alice, keys } = await fixedEpoch();
  const replay = new ReplayWindow(3);
  const open = opener(keys, '', replay);
  const a = await sealEnvelope({ keys, sender: alice.device, channel: '', content: { kind: 'text', text: 'once' }, pins: new MemoryPinStore() });
  await open(a.envelope);
  await assert.rejects(open(a.envelope), { code: 'duplicate' });
  await assert.rejects(open(a.envelope, { keysFor: () => undefined }), { code: 'unknown_epoch' });
  const stranger = { ...alice.device, deviceId: 'dev-mallory' };
  await assert.rejects(
    sealEnvelope({ keys, sender: stranger, channel: '', content: { kind: 'text', text: 'x' }, pins: new MemoryPinStore() }),
    { code: 'unknown_sender' },
  );
  await assert.rejects(open(reframe(a.envelope, { senderDeviceId: 'dev-mallory' })), { code: 'unknown_sender' });
  await assert.rejects(open(reframe(a.envelope, { version: 2 })), { code: 'unsupported_version' });
});

test('sending is blocked while a member has an unacknowledged account-key change', async () => {
  const { alice, keys } = await fixedEpoch();
  const pins = new MemoryPinStore();
  await checkPin(pins, 'u-bob', new Uint8Array(32).fill(1));
  await checkPin(pins, 'u-bob', new Uint8Array(32).fill(2));
  await assert.rejects(
    sealEnvelope({ keys, sender: alice.device, channel: '', content: { kind: 'text', text: 'hi' }, pins }),
    (e: any) => e.code === 'send_blocked' && e.details.userIds.includes('u-bob'),
  );
});

test('padding: round trip, bucket sizes, strict unpad; envelope length depends only on the bucket', async () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 70_000 }), (data) => {
      if (data.length > 65_532) {
        assert.throws(() => pad(data), { code: 'too_large' });
        return;
      }
      const p = pad(data);
      assert.equal(p.length, bucketFor(data.length));
      assert.ok(PADDING_BUCKETS.includes(p.length));
      assert.deepEqual(unpad(p), data);
    }),
    { numRuns: 200 },
  );
  const p = pad(new Uint8Array([1, 2, 3]));
  p[p.length - 1] = 1;
  assert.throws(() => unpad(p), { code: 'malformed' });
  assert.throws(() => unpad(new Uint8Array(300)), { code: 'malformed' });
  const { alice, keys } = await fixedEpoch();
  const sizes = new Set<number>();
  for (const n of [0, 1, 17, 100, 200, 226]) {
    const s = await sealEnvelope({ keys, sender: alice.device, channel: '', content: { kind: 'text', text: 'a'.repeat(n) }, pins: new MemoryPinStore() });
    sizes.add(s.envelope.length);
  }
  assert.equal(sizes.size, 1, 'texts up to 226 characters (JSON + length fit 256 bytes) all give the same envelope size');
});

test('content: every kind round-trips; bad fields refused; unknown kinds are typed', () => {
  const t = '0a'.repeat(16);
  for (const c of [
    { kind: 'text', text: 'hi' },
    { kind: 'reply', target: t, text: 'ok' },
    { kind: 'edit', target: t, text: 'hi!' },
    { kind: 'delete', target: t },
    { kind: 'reaction', target: t, emoji: '🎉', remove: true },
    { kind: 'attachment', file: { blobId: 'b', key: 'AA==', noncePrefix: 'AA==', sha256: 'AA==', ciphertextBytes: 16, plaintextBytes: 0, mime: 'audio/webm', durationMs: 1200, waveform: [0, 255] } },
    { kind: 'call-signal', callId: 'c', signal: 'ice', candidate: 'candidate:1' },
  ] satisfies MessageContent[]) {
    assert.deepEqual(decodeContent(encodeContent(c)), c);
  }
  assert.throws(() => decodeContent(new TextEncoder().encode('{"kind":"edit","target":"zz","text":"x"}')), { code: 'malformed' });
  assert.throws(() => decodeContent(new TextEncoder().encode('not json')), { code: 'malformed' });
  assert.deepEqual(decodeContent(new TextEncoder().encode('{"kind":"poll","q":"?"}')), { kind: 'unknown', type: 'poll' });
});

test('rotation policy: membership change, compromise, 7 days, 1,000 messages', () => {
  const day = 24 * 3600 * 1000;
  const t0 = 1_700_000_000_000;
  assert.deepEqual(shouldRotateEpoch({ epochStartedAt: t0, messages: 10 }, t0 + day), { rotate: false });
  assert.deepEqual(shouldRotateEpoch({ epochStartedAt: t0, messages: 10, membershipChangePending: true }, t0), { rotate: true, reason: 'membership' });
  assert.deepEqual(shouldRotateEpoch({ epochStartedAt: t0, messages: 0, compromiseSuspected: true }, t0), { rotate: true, reason: 'compromise' });
  assert.deepEqual(shouldRotateEpoch({ epochStartedAt: t0, messages: 999 }, t0 + 7 * day - 1), { rotate: false });
  assert.deepEqual(shouldRotateEpoch({ epochStartedAt: t0, messages: 999 }, t0 + 7 * day), { rotate: true, reason: 'age' });
  assert.deepEqual(shouldRotateEpoch({ epochStartedAt: t0, messages: 1000 }, t0), { rotate: true, reason: 'messages' });
  assert.deepEqual(shouldRotateEpoch({ epochStartedAt: t0, messages: 5 }, t0 + 3600_000, { maxAgeMs: 3600_000, maxMessages: 10 }), { rotate: true, reason: 'age' });
});
