/** Servers and their channels: create, leave, and moderation (kick, ban, unban) by owners and admins. */
import type { FastifyPluginAsync } from 'fastify';
import { CreateChannelRequest, CreateServerRequest, MemberActionRequest } from '../../shared/api.ts';
import { ChatroomError } from '../../shared/errors.ts';
import type { ServerRole } from '../../store/types.ts';
import { requireAuth } from '../plugins/authenticate.ts';
import { recordMlsServerRemoval } from '../mls/membership.ts';
import { BanParams, IdParams } from './params.ts';
import { requireServerModerator, revokeServer, serverMemberIds, serverRoleOrNotFound, serverSummary, summarize } from './views.ts';

/** Who may remove whom: nobody removes the owner or themselves; only the owner removes admins. */
function assertCanModerate(actorRole: ServerRole, targetRole: ServerRole | null, actorId: string, targetId: string): void {
  if (actorId === targetId) throw new ChatroomError('FORBIDDEN', 'You cannot do that to yourself.');
  if (targetRole === 'owner') throw new ChatroomError('FORBIDDEN', 'The server owner cannot be removed.');
  if (targetRole === 'admin' && actorRole !== 'owner') throw new ChatroomError('FORBIDDEN');
}

export const serverRoutes: FastifyPluginAsync = async (app) => {
  const { deps } = app;
  const { store, hub } = deps;

  app.post<{ Body: { name: string } }>('/api/servers', { schema: { body: CreateServerRequest } }, async (request) => {
    const auth = requireAuth(request);
    const { server } = await store.createServer({ name: request.body.name, ownerId: auth.userId });
    hub.notifyUsers([auth.userId], { t: 'conversations' });
    return serverSummary(deps, auth.userId, server, 'owner');
  });

  app.post<{ Params: IdParams; Body: { name: string } }>(
    '/api/servers/:id/channels',
    { schema: { params: IdParams, body: CreateChannelRequest } },
    async (request) => {
      const auth = requireAuth(request);
      await requireServerModerator(deps, request.params.id, auth.userId);
      const channel = await store.createChannel({ serverId: request.params.id, name: request.body.name, createdBy: auth.userId });
      hub.notifyUsers(await serverMemberIds(deps, request.params.id), { t: 'conversations' });
      const [view] = await summarize(deps, auth.userId, [channel]);
      return view;
    },
  );

  app.post<{ Params: IdParams }>('/api/servers/:id/leave', { schema: { params: IdParams } }, async (request, reply) => {
    const auth = requireAuth(request);
    const role = await serverRoleOrNotFound(deps, request.params.id, auth.userId);
    if (role === 'owner') throw new ChatroomError('FORBIDDEN', 'The owner cannot leave their own server.');
    await store.removeServerMember(request.params.id, auth.userId);
    await revokeServer(deps, request.params.id, auth.userId);
    await recordMlsServerRemoval(deps, request.params.id, auth.userId, 'left');
    return reply.code(204).send();
  });

  /** Kick (ban = false) or ban a user; a ban may target someone who is not (or no longer) a member. */
  const removeMember = async (actorId: string, serverId: string, targetId: string, ban: boolean): Promise<void> => {
    const actorRole = await requireServerModerator(deps, serverId, actorId);
    const targetRole = await store.getServerRole(serverId, targetId);
    if (!ban && !targetRole) throw new ChatroomError('NOT_FOUND', 'No such member.');
    if (ban && !targetRole && !(await store.getUser(targetId))) throw new ChatroomError('NOT_FOUND', 'No such user.');
    assertCanModerate(actorRole, targetRole, actorId, targetId);
    if (ban) await store.banFromServer(serverId, targetId, actorId);
    else await store.removeServerMember(serverId, targetId);
    if (targetRole) await revokeServer(deps, serverId, targetId);
    if (targetRole) await recordMlsServerRemoval(deps, serverId, targetId, ban ? 'banned' : 'kicked');
  };

  for (const [action, ban] of [['kick', false], ['ban', true]] as const) {
    app.post<{ Params: IdParams; Body: { userId: string } }>(
      `/api/servers/:id/${action}`,
      { schema: { params: IdParams, body: MemberActionRequest } },
      async (request, reply) => {
        await removeMember(requireAuth(request).userId, request.params.id, request.body.userId, ban);
        return reply.code(204).send();
      },
    );
  }

  app.delete<{ Params: BanParams }>('/api/servers/:id/bans/:userId', { schema: { params: BanParams } }, async (request, reply) => {
    const auth = requireAuth(request);
    await requireServerModerator(deps, request.params.id, auth.userId);
    await store.unbanFromServer(request.params.id, request.params.userId);
    return reply.code(204).send();
  });
};
