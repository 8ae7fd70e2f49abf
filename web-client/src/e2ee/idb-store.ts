/** The vault's key-value store on IndexedDB (per origin: one database, one object store). */
import type { KeyValueStore } from './vault.ts';

const DB_NAME = 'chatroom-keys';
const STORE = 'records';

function promised<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

/** Opens the database; rejects where IndexedDB is missing or blocked (e.g. some private modes). */
export async function openIdbStore(): Promise<KeyValueStore> {
  if (typeof indexedDB === 'undefined') throw new Error('This browser has no IndexedDB, so it cannot keep end-to-end keys.');
  const open = indexedDB.open(DB_NAME, 1);
  open.onupgradeneeded = () => open.result.createObjectStore(STORE);
  const db = await promised(open);
  const run = <T>(mode: IDBTransactionMode, f: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> => {
    const tx = db.transaction(STORE, mode);
    const result = promised(f(tx.objectStore(STORE)));
    const done = new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    });
    return Promise.all([result, done]).then(([r]) => r);
  };
  return {
    get: (key) => run('readonly', (s) => s.get(key)),
    put: async (key, value) => {
      await run('readwrite', (s) => s.put(value, key));
    },
    delete: async (key) => {
      await run('readwrite', (s) => s.delete(key));
    },
  };
}
