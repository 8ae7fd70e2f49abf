/**
 * At-rest storage of one user's secret key material in this browser. Every record is AES-256-GCM
 * encrypted under a wrapping key that Web Crypto generated as non-extractable: script can use it
 * but never read it, so the raw private keys never sit in plain storage. The record's slot
 * ("<userId>/<name>") is the AAD, so a record copied into another slot or user does not open.
 * The backing store is an interface: IndexedDB in the browser (idb-store.ts), memory in tests.
 */

/** What the vault needs from a key-value store; values are structured-cloneable. */
export interface KeyValueStore {
  get(key: string): Promise<unknown>;
  put(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
}

/** A store in memory (tests, and browsers where IndexedDB is unavailable). */
export class MemoryKeyValueStore implements KeyValueStore {
  readonly map = new Map<string, unknown>();
  async get(key: string): Promise<unknown> {
    return this.map.get(key);
  }
  async put(key: string, value: unknown): Promise<void> {
    this.map.set(key, value);
  }
  async delete(key: string): Promise<void> {
    this.map.delete(key);
  }
}

/**
 * Names of the records one user has. `setup-pending` holds the wrapped account-key backup from
 * sign-up until the user left the recovery key screen, so an interrupted setup resumes.
 *
 * The conversation engine (groups/) adds: `pins` (pinned account keys), `archive-pending` (epoch
 * keys not yet in the server archive), `group/<conv>` (this device's MLS state of a conversation),
 * `gen/<conv>` (a random tag rewritten with it, so another tab notices the change) and
 * `epoch/<conv>/<epoch>` (the content keys of one epoch, kept to read old history). Those
 * per-conversation names are listed in `index/<conv>`, and the indexes in `record-index`, so
 * `destroy` can find them.
 */
export type RecordName =
  | 'device'
  | 'backup-key'
  | 'key-packages'
  | 'setup-pending'
  | 'pins'
  | 'archive-pending'
  | 'record-index'
  | `index/${string}`
  | `group/${string}`
  | `gen/${string}`
  | `floor/${string}`
  | `epoch/${string}/${string}`;

/** Records with a fixed name (the per-conversation ones are found through `record-index`). */
const FIXED_RECORDS = ['device', 'backup-key', 'key-packages', 'setup-pending', 'pins', 'archive-pending', 'record-index'] as const;

interface SealedRecord {
  iv: Uint8Array;
  ct: Uint8Array;
}

const AAD_PREFIX = 'chatroom v1 vault ';
const IV_BYTES = 12;

function slot(userId: string, name: string): string {
  return `${userId}/${name}`;
}

function aad(userId: string, name: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(AAD_PREFIX + slot(userId, name));
}

function isSealed(v: unknown): v is SealedRecord {
  return typeof v === 'object' && v !== null && (v as SealedRecord).iv instanceof Uint8Array && (v as SealedRecord).ct instanceof Uint8Array;
}

/** Runs `f` under a Web Lock shared by this browser's tabs, where the runtime has them (not Node). */
function withTabLock<T>(name: string, f: () => Promise<T>): Promise<T> {
  const locks = (globalThis.navigator as (Navigator & { locks?: LockManager }) | undefined)?.locks;
  return locks ? (locks.request(name, f) as Promise<T>) : f();
}

/** Thrown when a record exists but does not open (wrong wrapping key, moved or altered). */
export class VaultError extends Error {
  override readonly name = 'VaultError';
}

/** One user's encrypted records, plus non-extractable CryptoKeys stored as they are. */
export class Vault {
  private constructor(
    private readonly kv: KeyValueStore,
    readonly userId: string,
    private readonly wrappingKey: CryptoKey,
  ) {}

  /** Opens (or, on first use, creates) the vault of `userId` in `kv`. */
  static async open(kv: KeyValueStore, userId: string): Promise<Vault> {
    const keySlot = slot(userId, 'wrapping-key');
    let key = await kv.get(keySlot);
    if (!(key instanceof CryptoKey)) {
      key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
      await kv.put(keySlot, key);
    }
    return new Vault(kv, userId, key as CryptoKey);
  }

  /** True when this browser holds a vault for `userId` (without creating one). */
  static async exists(kv: KeyValueStore, userId: string): Promise<boolean> {
    return (await kv.get(slot(userId, 'wrapping-key'))) instanceof CryptoKey;
  }

  async write(name: RecordName, plaintext: Uint8Array): Promise<void> {
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const ct = new Uint8Array(
      await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad(this.userId, name) }, this.wrappingKey, plaintext as Uint8Array<ArrayBuffer>),
    );
    await this.kv.put(slot(this.userId, name), { iv, ct } satisfies SealedRecord);
  }

  /** The record's plaintext, or null when there is none. */
  async read(name: RecordName): Promise<Uint8Array | null> {
    const sealed = await this.kv.get(slot(this.userId, name));
    if (sealed === undefined) return null;
    if (!isSealed(sealed)) throw new VaultError(`the stored ${name} record is not a sealed record`);
    try {
      return new Uint8Array(
        await crypto.subtle.decrypt(
          { name: 'AES-GCM', iv: sealed.iv as Uint8Array<ArrayBuffer>, additionalData: aad(this.userId, name) },
          this.wrappingKey,
          sealed.ct as Uint8Array<ArrayBuffer>,
        ),
      );
    } catch {
      throw new VaultError(`the stored ${name} record does not open`);
    }
  }

  /** Keeps a non-extractable CryptoKey (e.g. the account key's signer) as the key object itself. */
  async putKey(name: 'account-key', key: CryptoKey, publicKey: Uint8Array): Promise<void> {
    if (key.extractable) throw new VaultError('only non-extractable keys are kept as CryptoKeys');
    await this.kv.put(slot(this.userId, name), { key, publicKey });
  }

  async getKey(name: 'account-key'): Promise<{ key: CryptoKey; publicKey: Uint8Array } | null> {
    const v = (await this.kv.get(slot(this.userId, name))) as { key?: unknown; publicKey?: unknown } | undefined;
    if (!v || !(v.key instanceof CryptoKey) || !(v.publicKey instanceof Uint8Array)) return null;
    return { key: v.key, publicKey: v.publicKey };
  }

  async delete(name: RecordName): Promise<void> {
    await this.kv.delete(slot(this.userId, name));
  }

  /** The names `remember` recorded in `index` (empty when it is missing or does not open). */
  async remembered(index: RecordName = 'record-index'): Promise<Set<RecordName>> {
    let bytes: Uint8Array | null = null;
    try {
      bytes = await this.read(index);
    } catch (err) {
      if (!(err instanceof VaultError)) throw err;
    }
    const text = bytes ? new TextDecoder().decode(bytes) : '';
    return new Set(text.split('\n').filter(Boolean) as RecordName[]);
  }

  /**
   * Records names so `destroy` deletes them too. With `bucket` (a conversation id) they go into
   * that bucket's own index (`index/<bucket>`, itself listed in `record-index`), so a new epoch
   * rewrites one conversation's list, not everyone's.
   */
  remember(names: RecordName[], bucket?: string): Promise<void> {
    // Read-modify-write: calls from different conversations, and other tabs, must not interleave.
    const run = this.indexWrites.then(() => withTabLock(`chatroom-vault-index:${this.userId}`, () => this.rememberNow(names, bucket)));
    this.indexWrites = run.catch(() => undefined);
    return run;
  }

  private indexWrites: Promise<void> = Promise.resolve();

  private async rememberNow(names: RecordName[], bucket: string | undefined): Promise<void> {
    const index: RecordName = bucket === undefined ? 'record-index' : `index/${bucket}`;
    if (bucket !== undefined) await this.addToIndex('record-index', [index]);
    await this.addToIndex(index, names);
  }

  private async addToIndex(index: RecordName, names: RecordName[]): Promise<void> {
    const known = await this.remembered(index);
    const before = known.size;
    for (const n of names) known.add(n);
    if (known.size !== before) await this.write(index, new TextEncoder().encode([...known].join('\n')));
  }

  /** Forgets everything this browser holds for the user. */
  async destroy(): Promise<void> {
    for (const name of await this.remembered()) {
      if (name.startsWith('index/')) for (const inner of await this.remembered(name)) await this.kv.delete(slot(this.userId, inner));
      await this.kv.delete(slot(this.userId, name));
    }
    for (const name of [...FIXED_RECORDS, 'account-key', 'wrapping-key']) await this.kv.delete(slot(this.userId, name));
  }
}
