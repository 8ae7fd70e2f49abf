/**
 * Setup and invite links. Only the token's SHA-256 is stored; the link itself is shown once.
 * Used by the HTTP routes and by the CLI (`chatroom init`, `start`, `invite`) on the same database.
 * While a self-signed certificate is served, links end in `#sha256=<fingerprint>` (a fragment:
 * never sent to the server) so the invitee's sign-up page can show what to compare.
 */
import type { Store } from '../store/types.ts';
import type { CreatedInvite } from '../shared/api.ts';
import { fingerprintFragment } from '../tls/fingerprint.ts';
import { hashToken, newToken } from './auth/tokens.ts';

const HOUR_MS = 3_600_000;

/** Per store: the fingerprint of the certificate the server on it serves now (set by listen.ts). */
const servedFingerprint = new WeakMap<Store, () => string | undefined>();

/** Links made on `store` without an explicit fingerprint (e.g. by the HTTP API) get the one `current` returns. */
export function useLinkFingerprint(store: Store, current: () => string | undefined): void {
  servedFingerprint.set(store, current);
}

/** Creates a one-time link: `<baseUrl>/setup/<token>` or `<baseUrl>/invite/<token>` (+ `#sha256=…`). */
export async function createInviteLink(
  store: Store,
  baseUrl: string,
  opts: {
    kind: 'setup' | 'invite';
    serverId?: string | null;
    createdBy?: string | null;
    ttlHours: number;
    now?: number;
    /** Colon-hex SHA-256 of the self-signed certificate served; defaults to the one registered for the store. */
    fingerprint?: string;
  },
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
  const fingerprint = opts.fingerprint ?? servedFingerprint.get(store)?.();
  const fragment = fingerprint ? `#${fingerprintFragment(fingerprint)}` : '';
  return { url: `${baseUrl.replace(/\/+$/, '')}/${opts.kind}/${token}${fragment}`, token, expiresAt };
}

/** A fresh setup link while the instance has no account yet; null once someone has signed up. */
export async function ensureSetupLink(store: Store, baseUrl: string, ttlHours: number, opts: { fingerprint?: string } = {}): Promise<CreatedInvite | null> {
  if ((await store.countUsers()) > 0) return null;
  return createInviteLink(store, baseUrl, { kind: 'setup', ttlHours, ...opts });
}
