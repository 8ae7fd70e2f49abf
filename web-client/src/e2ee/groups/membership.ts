/**
 * Who should be in a conversation's MLS group, as the server's directory says (members and their
 * devices), with every device certificate checked here (the server is not trusted to list only
 * real devices). `diffRoster` compares that with the group's roster: leaves to remove (users no longer
 * members, revoked devices, leaves a pending removal still names) and devices to add.
 */
import type { Member as ApiMember } from '../../../../src/shared/api.ts';
import type { DeviceView, GroupState, PendingRemoval } from '../../../../src/shared/mls-api.ts';
import { equalBytes } from '../../crypto/bytes.ts';
import { checkPin, verifyDeviceCertificate, type KeyChange, type Member, type PinStore } from '../../crypto/index.ts';
import { fromB64Url } from '../b64url.ts';
import type { MlsClient } from '../mls-client.ts';

export interface ListedDevice {
  userId: string;
  deviceId: string;
  /** The device key its certificate certifies (the MLS leaf key it must use). */
  deviceKey: Uint8Array;
  /** The account key that signed its certificate. */
  accountKey: Uint8Array;
}

/**
 * Whose account keys this device trusts, so a certificate that verifies under *some* key is not
 * enough: the server could mint an account key of its own and certify a device with it.
 * - This user's own devices must carry this device's own account key (the server must not add a
 *   device to our account behind our back).
 * - Anyone else's must carry their pinned key (pinned on first sight). A different key is recorded
 *   as a key change, which the user sees and must accept; until then no device under it is added.
 */
export interface DeviceTrust {
  ownUserId: string;
  ownAccountKey: Uint8Array;
  pins: PinStore;
  now(): number;
  keyChanged(changes: KeyChange[]): void;
}

/**
 * Whether a verified device may be added: `trusted`, `changed` (its user's account key differs
 * from the pin: reported as a key change, added only once the user accepts it), or why it is refused.
 */
async function trustOf(trust: DeviceTrust, d: ListedDevice): Promise<'trusted' | 'changed' | { refused: string }> {
  if (d.userId === trust.ownUserId) {
    return equalBytes(d.accountKey, trust.ownAccountKey) ? 'trusted' : { refused: 'it is certified by an account key that is not yours' };
  }
  const pin = await checkPin(trust.pins, d.userId, d.accountKey, trust.now());
  if (pin.kind !== 'key_changed') return 'trusted';
  trust.keyChanged([{ userId: d.userId, previous: pin.previous, next: pin.next }]);
  return 'changed';
}

export interface RefusedDevice {
  userId: string;
  deviceId: string;
  why: string;
}

export interface Directory {
  /** Member user id → username. */
  members: Map<string, string>;
  /** Member user id → their verified, trusted devices; absent when the listing failed (then nothing of theirs is removed). */
  devices: Map<string, ListedDevice[]>;
  refused: RefusedDevice[];
  pendingRemovals: PendingRemoval[];
}

/** Certificate checks already made, by user, device id and certificate text (a pure function of those). */
const verified = new Map<string, ListedDevice | string>();
const VERIFIED_CACHE = 20_000;

/** The listed device if its certificate verifies and names this user and device; otherwise why not. */
async function checkDevice(userId: string, d: DeviceView): Promise<ListedDevice | string> {
  const key = `${userId} ${d.id} ${d.certificate}`;
  const hit = verified.get(key);
  if (hit) return hit;
  let result: ListedDevice | string;
  try {
    const cert = await verifyDeviceCertificate(fromB64Url(d.certificate));
    if (cert.userId !== userId) result = 'the certificate names another user';
    else if (cert.deviceId !== d.id) result = 'the certificate names another device';
    else result = { userId, deviceId: d.id, deviceKey: cert.deviceKey, accountKey: cert.accountKey };
  } catch (err) {
    result = err instanceof Error ? err.message : String(err);
  }
  verified.set(key, result);
  if (verified.size > VERIFIED_CACHE) verified.delete(verified.keys().next().value as string);
  return result;
}

/**
 * Reads who should be in the group (GET …/directory, every page: members with their certified
 * devices) and checks every certificate here: the server is not trusted to list only real devices.
 */
export async function readDirectory(client: MlsClient, conv: string, group: GroupState | null, trust: DeviceTrust): Promise<Directory> {
  const members = new Map<string, string>();
  const devices = new Map<string, ListedDevice[]>();
  const refused: RefusedDevice[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await client.directory(conv, after);
    for (const m of page.members) {
      members.set(m.id, m.username);
      const ok: ListedDevice[] = [];
      for (const d of m.devices) {
        if (!d.certificate) continue;
        const checked = await checkDevice(m.id, d);
        if (typeof checked === 'string') {
          refused.push({ userId: m.id, deviceId: d.id, why: checked });
          continue;
        }
        const verdict = await trustOf(trust, checked);
        // A changed key is shown as a key change (banner, blocked sending), not as a refused device.
        if (verdict === 'trusted') ok.push(checked);
        else if (verdict !== 'changed') refused.push({ userId: m.id, deviceId: d.id, why: verdict.refused });
      }
      devices.set(m.id, ok);
    }
    if (!page.hasMore || !page.next) break;
    after = page.next;
  }
  return { members, devices, refused, pendingRemovals: group?.pendingRemovals ?? [] };
}

export interface RosterDiff {
  /** Leaves to remove (never our own). */
  remove: Member[];
  /** Users whose pending removals the removal commit carries out. */
  resolves: string[];
  /** Verified devices of members that have no leaf. */
  add: ListedDevice[];
}

/** What one commit each should change so the roster matches the directory. */
export function diffRoster(roster: Member[], ownLeafIndex: number, dir: Directory): RosterDiff {
  const unresolved = dir.pendingRemovals.filter((p) => p.resolvedBySeq === undefined);
  const remove = roster.filter((m) => {
    if (m.leafIndex === ownLeafIndex) return false;
    if (!dir.members.has(m.userId)) return true;
    const listed = dir.devices.get(m.userId);
    if (listed && !listed.some((d) => d.deviceId === m.deviceId && equalBytes(d.deviceKey, m.signatureKey))) return true;
    // Removed and back again: the old leaves were in the group while they were out, so they go and fresh ones come.
    return unresolved.some((p) => p.userId === m.userId && (p.device === undefined || p.device === m.deviceId));
  });
  const removedIds = new Set(remove.map((m) => m.deviceId));
  const resolves = [...new Set(remove.map((m) => m.userId))].filter((u) => unresolved.some((p) => p.userId === u));
  const kept = roster.filter((m) => !removedIds.has(m.deviceId));
  const add: ListedDevice[] = [];
  for (const [userId, devices] of dir.devices) {
    if (!dir.members.has(userId)) continue;
    for (const d of devices) {
      // Our own leaf is never removed, so it is always among the kept ones.
      if (!kept.some((m) => m.deviceId === d.deviceId)) add.push(d);
    }
  }
  return { remove, resolves, add };
}

/**
 * The cheap check frames trigger (GET …/members is not rate-limited, the directory is): true when
 * the users with leaves are exactly the members and no unresolved pending removal names one of
 * them, so the directory need not be read. New devices of existing members are found by the full
 * check (`mls.members`, connect, now and then on send).
 */
export function rosterMatchesMembers(roster: Member[], list: ApiMember[], group: GroupState | null): boolean {
  const users = new Set(roster.map((m) => m.userId));
  if (users.size !== list.length || !list.every((m) => users.has(m.id))) return false;
  return !(group?.pendingRemovals ?? []).some((p) => p.resolvedBySeq === undefined && users.has(p.userId));
}
