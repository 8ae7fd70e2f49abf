/** Invite links: look one up, accept one while signed in, and create them (instance or server staff). */
import type { FastifyPluginAsync } from 'fastify';
import { CreateInviteRequest, type InviteInfo } from '../../shared/api.ts';
import { ChatroomError } from '../../shared/errors.ts';
import type { InviteRecord } from '../../store/types.ts';
import { hashToken } from '../auth/tokens.ts';
import { createInviteLink } from '../invites.ts';
import { requireAuth } from '../plugins/authenticate.ts';
import { announceArrival } from '../mls/membership.ts';
import { sendError } from '../plugins/errors.ts';
import { IdParams, TokenParams } from './params.ts';
import { requireServerModerator, serverRoleOrNotFound, serverSummary } from './views.ts';

export const inviteRoutes: FastifyPluginAsync = async (app) => {
  const { deps } = app;

  /** A usable invite; a setup link stops being usable once the instance has an account. */
  const usableInvite = async (token: string): Promise<InviteRecord | null> => {
    const invite = await deps.store.getUsableInvite(hashToken(token), deps.now());
    if (!invite) return null;
    if (invite.kind === 'setup' && (await deps.store.countUsers()) > 0) return null;
    return invite;
  };

  app.get<{ Params: TokenParams }>('/api/invites/:token', { schema: { params: TokenParams } }, async (request, reply) => {
    const invite = await usableInvite(request.params.token);
    if (!invite) return sendError(reply, 'INVITE_INVALID', 404);
    const info: InviteInfo = { kind: invite.kind, instanceName: deps.config.name };
    const server = invite.serverId ? await deps.store.getServer(invite.serverId) : null;
    if (server && !server.isDefault) info.serverName = server.name;
    return info;
  });

  app.post<{ Params: TokenParams }>('/api/invites/:token/accept', { schema: { params: TokenParams } }, async (request) => {
    const auth = requireAuth(request);
    const invite = await usableInvite(request.params.token);
    if (!invite || invite.kind !== 'invite') throw new ChatroomError('INVITE_INVALID');
    const server = (invite.serverId ? await deps.store.getServer(invite.serverId) : null) ?? (await deps.store.getDefaultServer());
    if (!server) throw new ChatroomError('INVITE_INVALID');
    const existingRole = await deps.store.getServerRole(server.id, auth.userId);
    if (!existingRole) {
      if (await deps.store.isBanned(server.id, auth.userId)) throw new ChatroomError('BANNED');
      if (!(await deps.store.consumeInvite(invite.tokenHash, deps.now()))) throw new ChatroomError('INVITE_INVALID');
      await deps.store.addServerMember(server.id, auth.userId);
      deps.hub.notifyUsers([auth.userId], { t: 'conversations' });
      await announceArrival(deps, (await deps.store.listChannels(server.id)).map((c) => c.id), auth.userId);
    }
    return serverSummary(deps, auth.userId, server, existingRole ?? 'member');
  });

  app.post<{ Body: { serverId?: string } }>('/api/invites', { schema: { body: CreateInviteRequest } }, async (request) => {
    const auth = requireAuth(request);
    if (auth.role !== 'owner' && auth.role !== 'admin') throw new ChatroomError('FORBIDDEN');
    const { serverId } = request.body;
    if (serverId) await serverRoleOrNotFound(deps, serverId, auth.userId);
    return createInviteLink(deps.store, deps.baseUrl, {
      kind: 'invite',
      serverId: serverId ?? null,
      createdBy: auth.userId,
      ttlHours: deps.config.inviteTtlHours,
      now: deps.now(),
    });
  });

  app.post<{ Params: IdParams }>('/api/servers/:id/invites', { schema: { params: IdParams } }, async (request) => {
    const auth = requireAuth(request);
    await requireServerModerator(deps, request.params.id, auth.userId);
    return createInviteLink(deps.store, deps.baseUrl, {
      kind: 'invite',
      serverId: request.params.id,
      createdBy: auth.userId,
      ttlHours: deps.config.inviteTtlHours,
      now: deps.now(),
    });
  });
};
