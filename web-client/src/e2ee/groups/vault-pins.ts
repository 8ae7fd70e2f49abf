/**
 * Pinned account keys kept in the vault (encrypted at rest), so trust on first use survives a
 * reload: a contact's key pinned today still flags a change next week. One record holds every pin.
 * A write re-reads the record and changes only its own pin, serialised within the tab and across
 * tabs (Web Lock), and tells the other tabs to drop their cached copy (BroadcastChannel).
 */
import { fromHex, toHex } from '../../crypto/bytes.ts';
import type { PinRecord, PinStore } from '../../crypto/index.ts';
import type { Vault } from '../vault.ts';
import { withLock } from './locks.ts';

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
  private readonly channel: BroadcastChannel | undefined;

  constructor(private readonly vault: Vault) {
    if (typeof BroadcastChannel === 'function') {
      this.channel = new BroadcastChannel(`chatroom-pins:${vault.userId}`);
      this.channel.onmessage = () => (this.loaded = undefined);
      // Node: an open channel would keep the process alive.
      (this.channel as BroadcastChannel & { unref?: () => void }).unref?.();
    }
  }

  /** Stops listening to other tabs. */
  close(): void {
    this.channel?.close();
  }

  private async readAll(): Promise<Map<string, PinRecord>> {
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
  }

  private pins(): Promise<Map<string, PinRecord>> {
    this.loaded ??= this.readAll();
    return this.loaded;
  }

  async get(userId: string): Promise<PinRecord | undefined> {
    const r = (await this.pins()).get(userId);
    return r && copy(r);
  }

  async put(record: PinRecord): Promise<void> {
    const run = this.writes.then(() =>
      withLock(`chatroom-pins:${this.vault.userId}`, async () => {
        const map = await this.readAll();
        map.set(record.userId, copy(record));
        await this.save(map);
        this.loaded = Promise.resolve(map);
        this.channel?.postMessage('changed');
      }),
    );
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
