/**
 * The user's epoch-key archive on the server (PUT /api/mls/backup/archive), so a device restored
 * with the recovery key reads history from before it joined. Every epoch this device reaches is
 * appended as an `epoch-keys` record wrapped under the backup key; writes name the version they
 * read (If-Match) and merge-retry on 409, so two devices never overwrite each other's records.
 * Epochs not yet uploaded are listed in the vault (`archive-pending`) and retried after a reload.
 */
import { MlsLimits } from '../../../../src/shared/mls-api.ts';
import { fromUtf8, toHex } from '../../crypto/bytes.ts';
import { unwrapArchiveRecord, wrapArchiveRecord, type EpochKeys } from '../../crypto/index.ts';
import { ApiError } from '../../state/api.ts';
import { decodeArchive, encodeArchive } from '../backup-format.ts';
import type { MlsClient } from '../mls-client.ts';
import type { Vault } from '../vault.ts';
import type { GroupStore } from './group-store.ts';

/** Conflicting writes retried before giving up until the next epoch (each retry re-reads and merges). */
const MAX_WRITE_ATTEMPTS = 6;

const keyOf = (conv: string, epoch: bigint): string => `${conv}/${epoch}`;

export class EpochArchive {
  /** Epoch keys read from the server's archive, by `<conv>/<epoch>`. */
  private readonly fromServer = new Map<string, EpochKeys>();
  /** Wrapped records already unwrapped, by their random IV, so a re-read costs nothing. */
  private readonly unwrapped = new Map<string, string | null>();
  private pending: string[] | undefined;
  private flushing: Promise<void> | undefined;
  private again = false;
  private lastRefresh = -Infinity;

  constructor(
    private readonly client: MlsClient,
    private readonly vault: Vault,
    private readonly store: GroupStore,
    private readonly now: () => number,
    private readonly onError: (message: string) => void,
    /** Called when a re-read brought keys this device did not have (failed decodes may now open). */
    private readonly onNewKeys: () => void = () => undefined,
  ) {}

  private async pendingList(): Promise<string[]> {
    if (!this.pending) {
      const bytes = await this.vault.read('archive-pending');
      this.pending = bytes ? new TextDecoder().decode(bytes).split('\n').filter(Boolean) : [];
    }
    return this.pending;
  }

  private async savePending(): Promise<void> {
    await this.vault.write('archive-pending', new TextEncoder().encode((this.pending ?? []).join('\n')));
  }

  /** Queues one epoch's keys (already in the GroupStore) for the archive and starts a flush. */
  async enqueue(conv: string, epoch: bigint): Promise<void> {
    const list = await this.pendingList();
    const k = keyOf(conv, epoch);
    if (!list.includes(k)) {
      list.push(k);
      await this.savePending();
    }
    this.flush();
  }

  /** Uploads whatever is pending; one upload at a time, repeated while more arrives. */
  flush(): Promise<void> {
    if (this.flushing) {
      this.again = true;
      return this.flushing;
    }
    this.flushing = (async () => {
      try {
        do {
          this.again = false;
          await this.flushOnce();
        } while (this.again);
      } catch (err) {
        this.onError(err instanceof Error ? err.message : String(err));
      } finally {
        this.flushing = undefined;
      }
    })();
    return this.flushing;
  }

  /** Resolves when no upload is running. */
  async idle(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flushOnce(): Promise<void> {
    const list = [...(await this.pendingList())];
    if (!list.length) return;
    const bk = await this.vault.read('backup-key');
    if (!bk) return; // Keys set up without a backup key cannot be archived; nothing to upload to.
    try {
      const records: EpochKeys[] = [];
      for (const k of list) {
        const at = k.lastIndexOf('/');
        const keys = await this.store.epochKeys(k.slice(0, at), BigInt(k.slice(at + 1)));
        if (keys) records.push(keys);
      }
      for (let attempt = 0; ; attempt++) {
        const stored = await this.client.getBackup('archive');
        const existing = stored ? decodeArchive(stored.data) : [];
        const known = await this.absorb(bk, existing);
        const wrapped: Uint8Array[] = [];
        for (const keys of records) if (!known.has(keyOf(fromUtf8(keys.groupId), keys.epoch))) wrapped.push(await wrapArchiveRecord(bk, { type: 'epoch-keys', keys }));
        if (wrapped.length) {
          const blob = encodeArchive([...existing, ...wrapped]);
          if (blob.length > MlsLimits.archiveBytes) throw new Error('The key archive is full, so devices added later may not read the newest history.');
          try {
            await this.client.putBackup('archive', blob, stored?.version ?? 0);
          } catch (err) {
            if (err instanceof ApiError && err.code === 'MLS_VERSION_CONFLICT' && attempt + 1 < MAX_WRITE_ATTEMPTS) continue;
            throw err;
          }
        }
        break;
      }
      this.pending = (this.pending ?? []).filter((k) => !list.includes(k));
      await this.savePending();
    } finally {
      bk.fill(0);
    }
  }

  /** Unwraps the records not seen before into `fromServer`; returns the keys of every record. */
  private async absorb(bk: Uint8Array, wrapped: Uint8Array[]): Promise<Set<string>> {
    const known = new Set<string>();
    for (const blob of wrapped) {
      // Bytes 2..14 are the record's random IV (recovery.ts wrapped blob v1): a stable identity.
      const id = `${blob.length}:${toHex(blob.subarray(2, 14))}`;
      let k = this.unwrapped.get(id);
      if (k === undefined) {
        k = null;
        try {
          const rec = await unwrapArchiveRecord(bk, blob);
          if (rec.type === 'epoch-keys') {
            k = keyOf(fromUtf8(rec.keys.groupId), rec.keys.epoch);
            this.fromServer.set(k, rec.keys);
          }
        } catch {
          // A record this key does not open (another account's, or damaged) is skipped, not fatal.
        }
        this.unwrapped.set(id, k);
      }
      if (k) known.add(k);
    }
    return known;
  }

  /**
   * Re-reads the server's archive unless that happened less than `minAgeMs` ago. Returns true when
   * it brought keys not held before.
   */
  async refresh(minAgeMs: number): Promise<boolean> {
    if (this.now() - this.lastRefresh < minAgeMs) return false;
    this.lastRefresh = this.now();
    const bk = await this.vault.read('backup-key');
    if (!bk) return false;
    try {
      const stored = await this.client.getBackup('archive');
      const before = this.fromServer.size;
      if (stored) await this.absorb(bk, decodeArchive(stored.data));
      const more = this.fromServer.size > before;
      if (more) this.onNewKeys();
      return more;
    } finally {
      bk.fill(0);
    }
  }

  /** Keys of `conv` at `epoch` from the server's archive, if it has them. */
  lookup(conv: string, epoch: bigint): EpochKeys | undefined {
    return this.fromServer.get(keyOf(conv, epoch));
  }
}
