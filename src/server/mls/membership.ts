/**
 * Membership hooks: when someone leaves or is removed from a conversation, its MLS group records a
 * pending removal (so the remaining members' clients know a removal commit is due) and they are
 * told with an `mls.removal` frame. The server cannot remove a leaf itself: only members commit.
 */
import type { FastifyInstance } from 'fastify';
import type { RemovalReason } from '../../store/mls-types.ts';

type Deps = FastifyInstance['deps'];

/** Tells the members of each conversation that `userId` must be removed from its group. */
export async function announceRemovals(deps: Deps, convIds: string[], userId: string): Promise<void> {
  for (const conv of convIds) {
    deps.hub.notifyUsers(await deps.store.listConversationMemberIds(conv), { t: 'mls.removal', conv, userId });
  }
}

/**
 * Tells the members of each conversation that `userId` joined it or certified a new device, so an
 * online member adds the devices missing from its group (only members commit; the server cannot).
 */
export async function announceArrival(deps: Deps, convIds: string[], userId: string): Promise<void> {
  for (const conv of convIds) {
    deps.hub.notifyUsers(await deps.store.listConversationMemberIds(conv), { t: 'mls.members', conv, userId });
  }
}

/** Records (and announces) a pending removal of `userId` in the groups of these conversations. */
export async function recordMlsRemoval(deps: Deps, convIds: string[], userId: string, reason: RemovalReason): Promise<void> {
  const recorded = await deps.store.mls.recordRemovals({ convIds, userId, reason, now: deps.now() });
  await announceRemovals(deps, recorded, userId);
}

/** The user left or was removed from a server: every channel's group needs a removal commit. */
export async function recordMlsServerRemoval(deps: Deps, serverId: string, userId: string, reason: RemovalReason): Promise<void> {
  const channels = await deps.store.listChannels(serverId);
  await recordMlsRemoval(deps, channels.map((c) => c.id), userId, reason);
}
