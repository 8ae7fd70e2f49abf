/**
 * Setup and invite links. Only the token's SHA-256 is stored; the link itself is shown once.
 * Used by the HTTP routes and by the CLI (`chatroom init`, `start`, `invite`) on the same database.
 */
import type { Store } from '../store/types.ts';
import type { CreatedInvite } from '../shared/api.ts';
import { hashToken, newToken } from './auth/tokens.ts';

const HOUR_MS = 3_600_000;

/** Creates a one-time link: `<baseUrl>/setup/<token>` or `<baseUrl>/invite/<token>`. */
export async function createInviteLink(
  store: Store,
  baseUrl: string,
  opts: { kind: 'setup' | 'invite'; serverId?: string | null; createdBy?: string | null; ttlHours: number; now?: number },
): Promise<CreatedInvite> {
  const now = opts.now ?? Date.now();
  const token = newToken();
  const expiresAt = now + opts.ttlHours * HOUR_MS;
  await store.createInvite({
    tokenHash: hashToken(token),
    kind: opts.kind,
    serverId: opts.serverId ?? null,
    createdBy: opts.createdBy ?? null,
    createdAt: now,
    expiresAt,
    usedAt: null,
  });
  return { url: `${baseUrl.replace(/\/+$/, '')}/${opts.kind}/${token}`, token, expiresAt };
}

/** A fresh setup link while the instance has no account yet; null once someone has signed up. */
export async function ensureSetupLink(store: Store, baseUrl: string, ttlHours: number): Promise<CreatedInvite | null> {
  if ((await store.countUsers()) > 0) return null;
  return createInviteLink(store, baseUrl, { kind: 'setup', ttlHours });
}
