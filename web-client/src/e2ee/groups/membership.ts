/**
 * Who should be in a conversation's MLS group, as the server's member list and device directory
 * say, with every device certificate checked here (the server is not trusted to list only real
 * devices). `diffRoster` compares that with the group's roster: leaves to remove (users no longer
 * members, revoked devices, leaves a pending removal still names) and devices to add.
 */
import type { Member as ApiMember } from '../../../../src/shared/api.ts';
import type { GroupState, PendingRemoval } from '../../../../src/shared/mls-api.ts';
import { equalBytes } from '../../crypto/bytes.ts';
import { verifyDeviceCertificate, type Member } from '../../crypto/index.ts';
import { fromB64Url } from '../b64url.ts';
import type { MlsClient } from '../mls-client.ts';

export interface ListedDevice {
  userId: string;
  deviceId: string;
  /** The device key its certificate certifies (the MLS leaf key it must use). */
  deviceKey: Uint8Array;
}

export interface RefusedDevice {
  userId: string;
  deviceId: string;
  why: string;
}

export interface Directory {
  /** Member user id → username. */
  members: Map<string, string>;
  /** Member user id → their verified devices; absent when the listing failed (then nothing of theirs is removed). */
  devices: Map<string, ListedDevice[]>;
  refused: RefusedDevice[];
  pendingRemovals: PendingRemoval[];
}

/** Reads each member's devices (certificates verified) beside the member list and the pending removals. */
export async function readDirectory(client: MlsClient, list: ApiMember[], group: GroupState | null): Promise<Directory> {
  const members = new Map(list.map((m) => [m.id, m.username]));
  const devices = new Map<string, ListedDevice[]>();
  const refused: RefusedDevice[] = [];
  await Promise.all(
    list.map(async (m) => {
      let listed;
      try {
        listed = (await client.userDevices(m.id)).devices;
      } catch {
        return;
      }
      const ok: ListedDevice[] = [];
      for (const d of listed) {
        if (!d.certificate) continue;
        try {
          const cert = await verifyDeviceCertificate(fromB64Url(d.certificate));
          if (cert.userId !== m.id) throw new Error('the certificate names another user');
          if (cert.deviceId !== d.id) throw new Error('the certificate names another device');
          ok.push({ userId: m.id, deviceId: d.id, deviceKey: cert.deviceKey });
        } catch (err) {
          refused.push({ userId: m.id, deviceId: d.id, why: err instanceof Error ? err.message : String(err) });
        }
      }
      devices.set(m.id, ok);
    }),
  );
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
 * The cheap check a membership frame triggers: true when the users with leaves are exactly the
 * members and no pending removal still names a user with leaves (so the per-member device
 * listings can wait for the next full check).
 */
export function rosterMatchesMembers(roster: Member[], list: ApiMember[], group: GroupState | null): boolean {
  const users = new Set(roster.map((m) => m.userId));
  if (users.size !== list.length || !list.every((m) => users.has(m.id))) return false;
  return !(group?.pendingRemovals ?? []).some((p) => p.resolvedBySeq === undefined && users.has(p.userId));
}
