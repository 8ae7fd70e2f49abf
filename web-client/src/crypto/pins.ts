/**
 * Trust on first use for account keys: the first account key seen for a user id is pinned; a
 * different one later is a "key changed" event that blocks sending to that user until the user
 * acknowledges it (or verifies the new safety number).
 */
import { equalBytes } from './bytes.ts';
import { CryptoError } from './errors.ts';

export interface PinRecord {
  userId: string;
  /** The pinned account key (32 bytes). */
  accountKey: Uint8Array;
  /** True once the safety number was compared for this key. */
  verified: boolean;
  /** A different account key seen since, not yet acknowledged: sending to this user is blocked. */
  pendingKey?: Uint8Array;
  /** Milliseconds since the Unix epoch when `accountKey` was pinned. */
  pinnedAt: number;
}

/** Storage for pins; the in-memory one is below, the IndexedDB one lives with the UI. */
export interface PinStore {
  get(userId: string): Promise<PinRecord | undefined>;
  put(record: PinRecord): Promise<void>;
}

/** In-memory PinStore (tests, Node clients). */
export class MemoryPinStore implements PinStore {
  private readonly pins = new Map<string, PinRecord>();
  async get(userId: string): Promise<PinRecord | undefined> {
    const r = this.pins.get(userId);
    return r && { ...r };
  }
  async put(record: PinRecord): Promise<void> {
    this.pins.set(record.userId, { ...record });
  }
}

export type PinCheck =
  | { kind: 'first_seen' }
  | { kind: 'match'; verified: boolean }
  | { kind: 'key_changed'; previous: Uint8Array; next: Uint8Array };

/** Compares `accountKey` with the pin for `userId`, pinning on first sight and recording a change. */
export async function checkPin(store: PinStore, userId: string, accountKey: Uint8Array, now = Date.now()): Promise<PinCheck> {
  const pin = await store.get(userId);
  if (!pin) {
    await store.put({ userId, accountKey: accountKey.slice(), verified: false, pinnedAt: now });
    return { kind: 'first_seen' };
  }
  if (equalBytes(pin.accountKey, accountKey)) return { kind: 'match', verified: pin.verified };
  if (!pin.pendingKey || !equalBytes(pin.pendingKey, accountKey)) await store.put({ ...pin, pendingKey: accountKey.slice() });
  return { kind: 'key_changed', previous: pin.accountKey, next: accountKey.slice() };
}

/** The user accepted a changed key: pin it (unverified) and unblock sending. */
export async function acknowledgeKeyChange(store: PinStore, userId: string, now = Date.now()): Promise<void> {
  const pin = await store.get(userId);
  if (!pin?.pendingKey) return;
  await store.put({ userId, accountKey: pin.pendingKey, verified: false, pinnedAt: now });
}

/** Marks `accountKey` verified (safety number compared); it becomes the pin if it was pending. */
export async function markVerified(store: PinStore, userId: string, accountKey: Uint8Array, now = Date.now()): Promise<void> {
  const pin = await store.get(userId);
  // Verifying the old key leaves a pending change pending: only the new key's number clears it.
  if (pin && equalBytes(pin.accountKey, accountKey)) {
    await store.put({ ...pin, verified: true });
    return;
  }
  await store.put({ userId, accountKey: accountKey.slice(), verified: true, pinnedAt: now });
}

/** Throws `send_blocked` (with the user ids) if any of `userIds` has an unacknowledged key change. */
export async function assertSendAllowed(store: PinStore, userIds: Iterable<string>): Promise<void> {
  const blocked: string[] = [];
  for (const id of new Set(userIds)) {
    const pin = await store.get(id);
    if (pin?.pendingKey) blocked.push(id);
  }
  if (blocked.length) throw new CryptoError('send_blocked', 'an account key changed; acknowledge it before sending', { userIds: blocked });
}
