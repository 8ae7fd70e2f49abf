// Known-answer tests for our Web Crypto wrappers: RFC 5869 HKDF, RFC 8032 Ed25519, RFC 7748 X25519, and Wycheproof HKDF/Ed25519/X25519/AES-GCM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  aesGcmDecrypt,
  aesGcmEncrypt,
  aesGcmKey,
  ed25519PublicKey,
  ed25519SeedToPkcs8,
  ed25519Sign,
  ed25519Verify,
  hkdfSha256,
  x25519,
} from '../../web-client/src/crypto/primitives.ts';
import { concat, fromHex, toHex } from '../../web-client/src/crypto/bytes.ts';
import { assertCryptoSupport } from '../../web-client/src/crypto/provider.ts';

const vec = (name: string) => JSON.parse(readFileSync(new URL(`../vectors/${name}`, import.meta.url), 'utf8'));
const kat = vec('rfc-kat.json');
type Wy = { testGroups: Array<Record<string, unknown> & { tests: Array<Record<string, any>> }> };

test('runtime supports Ed25519 and X25519 in Web Crypto', async () => {
  await assertCryptoSupport();
});

test('RFC 5869 HKDF-SHA256', async () => {
  for (const v of kat.hkdf_sha256) {
    const okm = await hkdfSha256(fromHex(v.ikm), fromHex(v.salt), fromHex(v.info), v.length);
    assert.equal(toHex(okm), v.okm, v.name);
  }
});

test('RFC 8032 Ed25519 sign (deterministic) and verify', async () => {
  for (const v of kat.ed25519) {
    const pkcs8 = ed25519SeedToPkcs8(fromHex(v.secret));
    assert.equal(toHex(await ed25519PublicKey(pkcs8)), v.public, v.name);
    assert.equal(toHex(await ed25519Sign(pkcs8, fromHex(v.message))), v.signature, v.name);
    assert.equal(await ed25519Verify(fromHex(v.public), fromHex(v.message), fromHex(v.signature)), true, v.name);
    const bad = fromHex(v.signature);
    bad[0] ^= 1;
    assert.equal(await ed25519Verify(fromHex(v.public), fromHex(v.message), bad), false, v.name);
  }
});

test('RFC 7748 X25519', async () => {
  for (const v of kat.x25519) assert.equal(toHex(await x25519(fromHex(v.scalar), fromHex(v.u))), v.output, v.name);
});

test('Wycheproof HKDF-SHA256', async () => {
  const w: Wy = vec('wycheproof/hkdf_sha256_test.json');
  let n = 0;
  for (const g of w.testGroups) {
    for (const t of g.tests) {
      if (t.result === 'valid') {
        assert.equal(toHex(await hkdfSha256(fromHex(t.ikm), fromHex(t.salt), fromHex(t.info), t.size)), t.okm, `tc ${t.tcId}`);
      } else {
        await assert.rejects(hkdfSha256(fromHex(t.ikm), fromHex(t.salt), fromHex(t.info), t.size), `tc ${t.tcId}`);
      }
      n++;
    }
  }
  assert.ok(n > 50);
});

test('Wycheproof Ed25519 verify: every valid accepted, every invalid refused', async () => {
  const w: Wy = vec('wycheproof/ed25519_test.json');
  for (const g of w.testGroups) {
    const pk = fromHex((g.publicKey as { pk: string }).pk);
    for (const t of g.tests) {
      const ok = await ed25519Verify(pk, fromHex(t.msg), fromHex(t.sig));
      assert.equal(ok, t.result === 'valid', `tc ${t.tcId} ${t.comment}`);
    }
  }
});

test('Wycheproof X25519: valid match, small-order points refused', async () => {
  const w: Wy = vec('wycheproof/x25519_test.json');
  for (const g of w.testGroups) {
    for (const t of g.tests) {
      let out: string | undefined;
      try {
        out = toHex(await x25519(fromHex(t.private), fromHex(t.public)));
      } catch {
        out = undefined;
      }
      if (t.result === 'valid') assert.equal(out, t.shared, `tc ${t.tcId} ${t.comment}`);
      else if (t.result === 'invalid') assert.notEqual(out, t.shared, `tc ${t.tcId}`);
      else if (out !== undefined) assert.equal(out, t.shared, `tc ${t.tcId} (acceptable)`);
    }
  }
});

test('Wycheproof AES-GCM (96-bit IV, 128-bit tag, 128/256-bit keys)', async () => {
  const w: Wy = vec('wycheproof/aes_gcm_test.json');
  let n = 0;
  for (const g of w.testGroups) {
    if (g.ivSize !== 96 || g.tagSize !== 128 || (g.keySize !== 128 && g.keySize !== 256)) continue;
    for (const t of g.tests) {
      const key = await aesGcmKey(fromHex(t.key));
      const ct = concat(fromHex(t.ct), fromHex(t.tag));
      if (t.result === 'valid') {
        assert.equal(toHex(await aesGcmEncrypt(key, fromHex(t.iv), fromHex(t.aad), fromHex(t.msg))), toHex(ct), `tc ${t.tcId}`);
        assert.equal(toHex(await aesGcmDecrypt(key, fromHex(t.iv), fromHex(t.aad), ct)), t.msg, `tc ${t.tcId}`);
      } else {
        await assert.rejects(aesGcmDecrypt(key, fromHex(t.iv), fromHex(t.aad), ct), { code: 'decrypt_failed' }, `tc ${t.tcId}`);
      }
      n++;
    }
  }
  assert.ok(n > 100);
});
