/**
 * Chromium side of the crypto benchmark: message cost, a safety number and the default Argon2id
 * passphrase KDF in a Worker, all under the app's strict CSP (no WASM, no eval). Results land
 * in `window.__bench` (or `window.__benchError`).
 */
import { assertCryptoSupport, DEFAULT_ARGON2, safetyNumber } from '../../web-client/src/crypto/index.ts';
import { runPassphraseKdf } from '../../web-client/src/crypto/recovery-worker.ts';
import { messageCost } from './shared.ts';

declare global {
  interface Window {
    __bench?: unknown;
    __benchError?: string;
  }
}

async function main(): Promise<void> {
  await assertCryptoSupport();
  const messages = await messageCost(Number(new URLSearchParams(location.search).get('n') ?? 300));
  let t = performance.now();
  safetyNumber({ userId: 'alice', accountKey: new Uint8Array(32).fill(1) }, { userId: 'bob', accountKey: new Uint8Array(32).fill(2) });
  const safetyNumberMs = performance.now() - t;
  const worker = new Worker('/worker.js', { type: 'module' });
  t = performance.now();
  const key = await runPassphraseKdf(worker, 'correct horse battery staple', new Uint8Array(16), DEFAULT_ARGON2);
  const argon2WorkerMs = performance.now() - t;
  worker.terminate();
  window.__bench = { userAgentMajor: navigator.userAgent.match(/Chrome\/(\d+)/)?.[1] ?? '?', messages, safetyNumberMs, argon2WorkerMs, argon2KeyBytes: key.length };
}

main().catch((err: unknown) => {
  window.__benchError = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
});
