/**
 * This device's per-conversation records in the vault (encrypted at rest):
 *
 *   group/<conv>            = fields(v1): deviceId ‖ MlsGroup.encode() ‖ usage JSON
 *   gen/<conv>              = 16 random hex digits, rewritten with every change of group/<conv>
 *   epoch/<conv>/<epoch>    = encodeEpochKeys(keys of that epoch)
 *   floor/<conv>            = the highest epoch this device reached (decimal), kept after leaving
 *
 * Several tabs of one browser share these records: a tab compares `gen/<conv>` with the one it
 * loaded before each operation (under a Web Lock) and reloads the group when another tab moved it.
 * The group state resumes the conversation after a reload without re-joining; the epoch keys of
 * every epoch this device held open old history after the group moved on. Both are listed in the
 * conversation's index in the vault (`index/<conv>`), so forgetting the browser's keys deletes them too.
 */
import { decodeEpochKeys, encodeEpochKeys, type EpochKeys, type EpochUsage } from '../../crypto/index.ts';
import { fromUtf8, packFields, unpackFields, utf8 } from '../codec.ts';
import type { RecordName, Vault } from '../vault.ts';

const GROUP_RECORD_VERSION = 1;

/** How much the current epoch has been used (for rotation), kept with the group state. */
export type Usage = Pick<EpochUsage, 'epochStartedAt' | 'messages'>;

export interface StoredGroup {
  /** The device the state belongs to (a restored browser has a new device: old states are useless). */
  deviceId: string;
  state: Uint8Array;
  usage: Usage;
}

const groupName = (conv: string): RecordName => `group/${conv}`;
const genName = (conv: string): RecordName => `gen/${conv}`;

function newGeneration(): string {
  return [...crypto.getRandomValues(new Uint8Array(8))].map((b) => b.toString(16).padStart(2, '0')).join('');
}
const epochName = (conv: string, epoch: bigint): RecordName => `epoch/${conv}/${epoch}`;
const floorName = (conv: string): RecordName => `floor/${conv}`;

export class GroupStore {
  /** Epoch keys already read or written, per conversation then epoch (small: ~100 bytes per member). */
  private readonly keys = new Map<string, Map<bigint, EpochKeys>>();

  constructor(readonly vault: Vault) {}

  async loadGroup(conv: string): Promise<StoredGroup | null> {
    const bytes = await this.vault.read(groupName(conv));
    if (!bytes) return null;
    const [deviceId, state, usage] = unpackFields(bytes, GROUP_RECORD_VERSION, 'group record');
    const u = JSON.parse(fromUtf8(usage)) as Usage;
    return { deviceId: fromUtf8(deviceId), state, usage: { epochStartedAt: Number(u.epochStartedAt), messages: Number(u.messages) } };
  }

  /** Writes the group state; returns its new generation tag. */
  async saveGroup(conv: string, g: StoredGroup): Promise<string> {
    await this.vault.remember([groupName(conv)], conv);
    await this.vault.write(groupName(conv), packFields(GROUP_RECORD_VERSION, [utf8(g.deviceId), g.state, utf8(JSON.stringify(g.usage))]));
    return this.bump(conv);
  }

  /** Deletes the group state; returns the new generation tag. */
  async deleteGroup(conv: string): Promise<string> {
    await this.vault.delete(groupName(conv));
    return this.bump(conv);
  }

  private async bump(conv: string): Promise<string> {
    await this.vault.remember([genName(conv)], conv);
    const gen = newGeneration();
    await this.vault.write(genName(conv), utf8(gen));
    return gen;
  }

  /** The generation tag of the stored group state (null before anything was stored). */
  async generation(conv: string): Promise<string | null> {
    const bytes = await this.vault.read(genName(conv));
    return bytes ? fromUtf8(bytes) : null;
  }

  /**
   * The highest epoch this device reached in `conv` (-1 before any). Epochs only grow, so a
   * Welcome into an epoch at or below it is an old one replayed: joining it would roll this
   * device back to keys a since-removed member may hold.
   */
  async floor(conv: string): Promise<bigint> {
    const bytes = await this.vault.read(floorName(conv));
    return bytes ? BigInt(fromUtf8(bytes)) : -1n;
  }

  async raiseFloor(conv: string, epoch: bigint): Promise<void> {
    if (epoch <= (await this.floor(conv))) return;
    await this.vault.remember([floorName(conv)], conv);
    await this.vault.write(floorName(conv), utf8(epoch.toString()));
  }

  /** Conversations this device holds records for (from the record index). */
  async conversations(): Promise<string[]> {
    const out: string[] = [];
    for (const name of await this.vault.remembered()) if (name.startsWith('index/')) out.push(name.slice('index/'.length));
    return out;
  }

  private cache(conv: string): Map<bigint, EpochKeys> {
    let m = this.keys.get(conv);
    if (!m) this.keys.set(conv, (m = new Map()));
    return m;
  }

  /** Keys of one epoch this device held (or took from the archive), or undefined. */
  async epochKeys(conv: string, epoch: bigint): Promise<EpochKeys | undefined> {
    const m = this.cache(conv);
    const hit = m.get(epoch);
    if (hit) return hit;
    // Not cached when missing: another tab may store it later.
    const bytes = await this.vault.read(epochName(conv, epoch));
    if (!bytes) return undefined;
    const keys = decodeEpochKeys(bytes);
    m.set(epoch, keys);
    return keys;
  }

  /** Keeps an epoch's keys; false when they were already kept. */
  async putEpochKeys(conv: string, keys: EpochKeys): Promise<boolean> {
    if (await this.epochKeys(conv, keys.epoch)) return false;
    this.cache(conv).set(keys.epoch, keys);
    await this.vault.remember([epochName(conv, keys.epoch)], conv);
    await this.vault.write(epochName(conv, keys.epoch), encodeEpochKeys(keys));
    return true;
  }
}
