// Chromium over HTTPS with the self-signed certificate, at a name that is not loopback (so only TLS makes it secure): zero CSP violations, isSecureContext, crypto.subtle and getUserMedia present, the invite fragment's fingerprint shown on the sign-up page; the same name over plain HTTP is not a secure context.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chromium, type Browser } from 'playwright-core';
import { resolveConfig, withDefaults } from '../../src/config/defaults.ts';
import { startServer } from '../../src/server/listen.ts';
import { CHROMIUM_PATH, chromiumSkipReason, describeProblems, newContext, newPage } from '../helpers/browser.ts';
import { startTestServer } from '../helpers/server.ts';
import { tempDir } from '../tls/helpers.ts';

const skip = chromiumSkipReason();
const NAME = 'chat.home.test';

/** Like launchBrowser(), plus: chat.home.test resolves to 127.0.0.1 inside Chromium only. */
async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--host-resolver-rules=MAP ${NAME} 127.0.0.1`,
    ],
  });
}

interface Capabilities {
  isSecureContext: boolean;
  subtle: string;
  getUserMedia: string;
}

test('the page over HTTPS is a secure context with Web Crypto and getUserMedia, no CSP violations, and shows the link fingerprint', { skip, timeout: 90_000 }, async (t) => {
  const dir = tempDir(t);
  const config = resolveConfig(withDefaults({ host: '127.0.0.1', port: 0, httpPort: 0, upnp: false, tls: { mode: 'self-signed', domain: NAME } }), dir);
  const server = await startServer(config, { saltKey: randomBytes(32).toString('base64'), addressKey: randomBytes(32).toString('base64') });
  t.after(() => server.close());
  assert.ok(server.setupLink && server.fingerprint);
  const link = new URL(server.setupLink);
  assert.equal(link.hash, `#sha256=${server.fingerprint.replace(/:/g, '')}`, 'the setup link carries the fingerprint in its fragment');

  const browser = await launch();
  t.after(() => browser.close());
  const context = await newContext(browser);
  const page = await newPage(context);
  const response = await page.goto(`https://${NAME}:${server.port}${link.pathname}${link.hash}`);
  assert.equal(response?.status(), 200);
  assert.match(response?.headers()['content-security-policy'] ?? '', /script-src 'self'/);
  await page.getByRole('textbox', { name: 'Username' }).waitFor();

  const caps = await page.evaluate<Capabilities>(() => ({
    isSecureContext: window.isSecureContext,
    subtle: typeof crypto.subtle,
    getUserMedia: typeof navigator.mediaDevices?.getUserMedia,
  }));
  assert.deepEqual(caps, { isSecureContext: true, subtle: 'object', getUserMedia: 'function' });

  const shown = page.getByLabel('Expected SHA-256 fingerprint');
  assert.equal((await shown.textContent())?.trim(), server.fingerprint, 'the sign-up page shows the fingerprint to compare');
  assert.deepEqual(describeProblems([page]), [], 'no CSP violations, console or page errors');
});

test('control: the same name over plain HTTP is not a secure context (the check above can fail)', { skip, timeout: 60_000 }, async (t) => {
  const plain = await startTestServer();
  t.after(() => plain.close());
  const browser = await launch();
  t.after(() => browser.close());
  const page = await newPage(await newContext(browser));
  await page.goto(`http://${NAME}:${new URL(plain.url).port}/`);
  const caps = await page.evaluate<Capabilities>(() => ({
    isSecureContext: window.isSecureContext,
    subtle: typeof crypto.subtle,
    getUserMedia: typeof navigator.mediaDevices?.getUserMedia,
  }));
  assert.deepEqual(caps, { isSecureContext: false, subtle: 'undefined', getUserMedia: 'undefined' });
});
