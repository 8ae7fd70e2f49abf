// The crypto folder in Chromium under the app's strict CSP (no WASM, no eval): golden envelopes byte-exact, a 3-member MLS group, safety number, recovery key, Argon2id in the Worker entry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromiumSkipReason, launchBrowser } from '../helpers/browser.ts';
import { toHex } from '../../web-client/src/crypto/bytes.ts';
import { derivePassphraseKey } from '../../web-client/src/crypto/recovery.ts';

const CSP = "default-src 'self'; script-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'";

async function bundle(entry: string): Promise<string> {
  const r = await build({ entryPoints: [fileURLToPath(new URL(entry, import.meta.url))], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'error' });
  return r.outputFiles[0].text;
}

test('Chromium runs the same crypto code under a strict CSP', { skip: chromiumSkipReason() }, async (t) => {
  const [entry, worker] = await Promise.all([bundle('./browser-entry.ts'), bundle('../../web-client/src/crypto/recovery-worker.ts')]);
  const server = createServer((req, res) => {
    const headers = { 'content-security-policy': CSP };
    if (req.url === '/entry.js') return res.writeHead(200, { ...headers, 'content-type': 'text/javascript' }).end(entry);
    if (req.url === '/worker.js') return res.writeHead(200, { ...headers, 'content-type': 'text/javascript' }).end(worker);
    res.writeHead(200, { ...headers, 'content-type': 'text/html' }).end('<!doctype html><meta charset="utf-8"><script type="module" src="/entry.js"></script>');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('no address');
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  const done = page.waitForEvent('console', { predicate: (m) => m.text() === 'crypto-browser-done', timeout: 120_000 });
  await page.goto(`http://127.0.0.1:${addr.port}/`);
  await done;
  const r = (await page.evaluate(() => (window as unknown as { __result: Record<string, unknown> }).__result)) as Record<string, unknown>;
  assert.equal(r.error, undefined);
  assert.deepEqual(r.goldenMatches, Array(8).fill(true));
  assert.deepEqual(r.received, ['hi from bob', 'hi from bob']);
  assert.equal(r.tamperCode, 'bad_signature');
  assert.equal(r.sn, '807964407193247497980719336859915131123037010856222049799085');
  assert.equal(r.rkRoundTrip, true);
  assert.equal(r.kdf, toHex(await derivePassphraseKey('correct horse battery staple', new Uint8Array(16).fill(7), { t: 2, m: 4096, p: 1 })));
  assert.deepEqual(problems, []);
});
