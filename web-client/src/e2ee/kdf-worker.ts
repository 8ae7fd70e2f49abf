/**
 * The page side of the passphrase KDF: Argon2id (64 MiB, seconds) runs in dist/web/recovery-worker.js
 * so the page stays responsive. The build embeds the Worker's SRI hash here; the script is fetched
 * with that integrity first, so a Worker file that differs from the build is refused.
 */
import { runPassphraseKdf } from '../crypto/recovery-worker.ts';
import type { PassphraseKdf } from './device-keys.ts';

declare const RECOVERY_WORKER_INTEGRITY: string;

const WORKER_URL = '/recovery-worker.js';

/** Runs Argon2id in a fresh Worker, ended once the key is back (it holds 64 MiB while it runs). */
export const workerKdf: PassphraseKdf = async (passphrase, salt, params) => {
  const integrity = typeof RECOVERY_WORKER_INTEGRITY === 'string' ? RECOVERY_WORKER_INTEGRITY : '';
  if (!integrity) throw new Error('The passphrase worker is missing from this build.');
  const check = await fetch(WORKER_URL, { integrity, credentials: 'same-origin', cache: 'no-cache' });
  if (!check.ok) throw new Error(`The passphrase worker could not be loaded (HTTP ${check.status}).`);
  const worker = new Worker(WORKER_URL, { type: 'module', name: 'passphrase-kdf' });
  try {
    return await new Promise<Uint8Array>((resolve, reject) => {
      worker.addEventListener('error', () => reject(new Error('The passphrase worker failed to start.')));
      runPassphraseKdf(worker, passphrase, salt, params).then(resolve, reject);
    });
  } finally {
    worker.terminate();
  }
};
