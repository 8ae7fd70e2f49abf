/** Who may see whose devices and claim whose KeyPackages, and which conversations a user can see. */
import type { FastifyInstance } from 'fastify';
import { ChatroomError } from '../../shared/errors.ts';
import type { MlsDevice } from '../../store/mls-types.ts';
import type { AuthContext } from '../context.ts';

type Deps = FastifyInstance['deps'];

/**
 * The same rule as POST /api/dms (src/server/routes/groups.ts): anyone may start a DM with any
 * other existing user. Everyone who shares a conversation with the requester is a user they may
 * DM, so this rule covers both. If DMs ever get restricted, add the shared-conversation case here.
 */
function mayStartDm(requesterId: string, targetId: string): boolean {
  return requesterId !== targetId;
}

/**
 * Throws NOT_FOUND unless `requesterId` may see `targetId`'s devices (and claim their KeyPackages):
 * themself, or a user they may DM. A missing user answers the same.
 */
export async function assertMayContact(deps: Deps, requesterId: string, targetId: string): Promise<void> {
  if (requesterId === targetId) return;
  const target = await deps.store.getUser(targetId);
  if (!target || !mayStartDm(requesterId, target.id)) throw new ChatroomError('NOT_FOUND', 'No such user.');
}

/** The device bound to the caller's session, or MLS_NO_DEVICE. */
export async function requireDevice(deps: Deps, auth: AuthContext): Promise<MlsDevice> {
  const device = await deps.store.mls.deviceOfSession(auth.sessionHash);
  if (!device) throw new ChatroomError('MLS_NO_DEVICE');
  return device;
}

/** The caller's device, which must have uploaded its certificate (else MLS_DEVICE_UNCERTIFIED). */
export async function requireCertifiedDevice(deps: Deps, auth: AuthContext): Promise<MlsDevice> {
  const device = await requireDevice(deps, auth);
  if (!device.certificate) throw new ChatroomError('MLS_DEVICE_UNCERTIFIED');
  return device;
}

/** Every conversation the user can see: their servers' channels, their groups and DMs. */
export async function visibleConversationIds(deps: Deps, userId: string): Promise<string[]> {
  const ids: string[] = [];
  for (const { server } of await deps.store.listServersOf(userId)) {
    for (const channel of await deps.store.listChannels(server.id)) ids.push(channel.id);
  }
  for (const c of await deps.store.listDirectConversationsOf(userId)) ids.push(c.id);
  return ids;
}
