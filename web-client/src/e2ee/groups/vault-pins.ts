/**
 * Pinned account keys kept in the vault (encrypted at rest), so trust on first use survives a
 * reload: a contact's key pinned today still flags a change next week. One record holds every pin;
 * writes are serialised so two conversations pinning at once never lose one.
 */
import { fromHex, toHex } from '../../crypto/bytes.ts';
import type { PinRecord, PinStore } from '../../crypto/index.ts';
import type { Vault } from '../vault.ts';

const VERSION = 1;

interface StoredPin {
  userId: string;
  accountKey: string;
  verified: boolean;
  pendingKey?: string;
  pinnedAt: number;
}

function copy(r: PinRecord): PinRecord {
  return { ...r, accountKey: r.accountKey.slice(), ...(r.pendingKey ? { pendingKey: r.pendingKey.slice() } : {}) };
}

export class VaultPinStore implements PinStore {
  private loaded: Promise<Map<string, PinRecord>> | undefined;
  private writes: Promise<void> = Promise.resolve();

  constructor(private readonly vault: Vault) {}

  private pins(): Promise<Map<string, PinRecord>> {
    this.loaded ??= (async () => {
      const bytes = await this.vault.read('pins');
      const map = new Map<string, PinRecord>();
      if (!bytes) return map;
      const parsed = JSON.parse(new TextDecoder().decode(bytes)) as { v: number; pins: StoredPin[] };
      if (parsed.v !== VERSION) throw new Error(`pins record: unknown version ${parsed.v}`);
      for (const p of parsed.pins) {
        map.set(p.userId, {
          userId: p.userId,
          accountKey: fromHex(p.accountKey),
          verified: p.verified,
          pinnedAt: p.pinnedAt,
          ...(p.pendingKey ? { pendingKey: fromHex(p.pendingKey) } : {}),
        });
      }
      return map;
    })();
    return this.loaded;
  }

  async get(userId: string): Promise<PinRecord | undefined> {
    const r = (await this.pins()).get(userId);
    return r && copy(r);
  }

  async put(record: PinRecord): Promise<void> {
    const map = await this.pins();
    map.set(record.userId, copy(record));
    const run = this.writes.then(() => this.save(map));
    this.writes = run.catch(() => undefined);
    await run;
  }

  /** Every pin (for the key-change list and the verified badges). */
  async list(): Promise<PinRecord[]> {
    return [...(await this.pins()).values()].map(copy);
  }

  private async save(map: Map<string, PinRecord>): Promise<void> {
    const pins: StoredPin[] = [...map.values()].map((p) => ({
      userId: p.userId,
      accountKey: toHex(p.accountKey),
      verified: p.verified,
      pinnedAt: p.pinnedAt,
      ...(p.pendingKey ? { pendingKey: toHex(p.pendingKey) } : {}),
    }));
    await this.vault.write('pins', new TextEncoder().encode(JSON.stringify({ v: VERSION, pins })));
  }
}
