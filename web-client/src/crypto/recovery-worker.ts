/**
 * Worker entry for the passphrase KDF: Argon2id (64 MiB, ~2 s) must not freeze the page. Bundle
 * this file as its own script; the page posts `{ id, passphrase, salt, params }` and receives
 * `{ id, key }` or `{ id, error }`. `runPassphraseKdf` below is the page side.
 */
import { derivePassphraseKey, type Argon2Params } from './recovery.ts';

export interface KdfRequest {
  id: number;
  passphrase: string;
  salt: Uint8Array;
  params: Argon2Params;
}
export type KdfResponse = { id: number; key: Uint8Array } | { id: number; error: string };

interface WorkerScope {
  onmessage: ((ev: MessageEvent<KdfRequest>) => void) | null;
  postMessage(msg: KdfResponse, transfer?: Transferable[]): void;
}

const scope = globalThis as unknown as Partial<WorkerScope> & { WorkerGlobalScope?: unknown };
if (typeof scope.WorkerGlobalScope !== 'undefined' && typeof scope.postMessage === 'function') {
  scope.onmessage = (ev) => {
    const { id, passphrase, salt, params } = ev.data;
    derivePassphraseKey(passphrase, salt, params).then(
      (key) => scope.postMessage!({ id, key }, [key.buffer as ArrayBuffer]),
      (err: unknown) => scope.postMessage!({ id, error: err instanceof Error ? err.message : String(err) }),
    );
  };
}

let nextId = 1;

/** Page side: runs Argon2id in `worker` (created from this file's bundle) and resolves with the key. */
export function runPassphraseKdf(worker: Worker, passphrase: string, salt: Uint8Array, params: Argon2Params): Promise<Uint8Array> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const onMessage = (ev: MessageEvent<KdfResponse>) => {
      if (ev.data.id !== id) return;
      worker.removeEventListener('message', onMessage);
      if ('key' in ev.data) resolve(ev.data.key);
      else reject(new Error(`passphrase KDF failed: ${ev.data.error}`));
    };
    worker.addEventListener('message', onMessage);
    worker.postMessage({ id, passphrase, salt, params } satisfies KdfRequest);
  });
}
