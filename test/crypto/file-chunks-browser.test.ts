// web-client/src/crypto/file-chunks.ts in Chromium: the golden vector matches Node's, a round trip works, and a tampered ciphertext is refused with the same typed errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { serveModulePage } from '../helpers/module-page.ts';
import { chromiumSkipReason, launchBrowser } from '../helpers/browser.ts';
import { CHUNK_PLAIN_BYTES, encryptBytes } from '../../web-client/src/crypto/file-chunks.ts';

const modulePath = fileURLToPath(new URL('../../web-client/src/crypto/file-chunks.ts', import.meta.url));

/** The module on a blank page at 127.0.0.1, as globalThis.fileChunks. */
function serveModule() {
  return serveModulePage(modulePath, 'fileChunks');
}

test('Chromium: same bytes as Node for the golden vector, round trip, typed rejections', { skip: chromiumSkipReason() }, async (t) => {
  const { url, server } = await serveModule();
  t.after(() => server.close());
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await browser.newPage();
  // tsx compiles this file with esbuild's keepNames, which wraps functions in __name(): give the page one.
  await page.addInitScript({ content: 'globalThis.__name = (f) => f;' });
  await page.goto(url);

  const inBrowser = await page.evaluate(async (chunkPlain) => {
    const fc = (globalThis as unknown as { fileChunks: typeof import('../../web-client/src/crypto/file-chunks.ts') }).fileChunks;
    const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    const fixed = { key: Uint8Array.from({ length: 32 }, (_, i) => i), noncePrefix: Uint8Array.from([0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7]) };
    const plain = Uint8Array.from({ length: chunkPlain + 100 }, (_, i) => (i * 7 + 3) % 251);
    const { ciphertext, summary } = await fc.encryptBytes(plain, fixed);
    const back = await fc.decryptBytes(ciphertext, fixed, { sha256: summary.sha256 });
    const reasons: string[] = [];
    const cut = ciphertext.subarray(0, fc.CHUNK_CIPHER_BYTES);
    const flipped = ciphertext.slice();
    flipped[10] ^= 1;
    for (const bad of [cut, flipped]) {
      try {
        await fc.decryptBytes(bad, fixed);
        reasons.push('accepted');
      } catch (err) {
        reasons.push(err instanceof fc.FileChunkError ? err.code : String(err));
      }
    }
    return { ciphertextHex: hex(ciphertext), sha256: hex(summary.sha256), roundTrip: back.length === plain.length && back.every((b, i) => b === plain[i]), reasons };
  }, CHUNK_PLAIN_BYTES);

  const fixed = { key: Uint8Array.from({ length: 32 }, (_, i) => i), noncePrefix: Uint8Array.from([0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7]) };
  const inNode = await encryptBytes(Uint8Array.from({ length: CHUNK_PLAIN_BYTES + 100 }, (_, i) => (i * 7 + 3) % 251), fixed);
  assert.equal(inBrowser.ciphertextHex, Buffer.from(inNode.ciphertext).toString('hex'), 'Chromium and Node produce the same ciphertext');
  assert.equal(inBrowser.sha256, '682c8465b83ca4148194dd5b20840f14df63fa6ba0101fe6b870911afc1fa9cc');
  assert.equal(inBrowser.roundTrip, true);
  assert.deepEqual(inBrowser.reasons, ['truncated', 'corrupt']);
});
