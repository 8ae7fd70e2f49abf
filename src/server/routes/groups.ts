/** Group chats and direct messages: create, add members, leave; DMs are found or created. */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { AddMemberRequest, CreateDmRequest, CreateGroupRequest } from '../../shared/api.ts';
import { ChatroomError } from '../../shared/errors.ts';
import type { User } from '../../store/types.ts';
import { requireAuth } from '../plugins/authenticate.ts';
import { recordMlsRemoval } from '../mls/membership.ts';
import { IdParams } from './params.ts';
import { accessOrNotFound, summarize } from './views.ts';

async function userByName(deps: FastifyInstance['deps'], username: string): Promise<User> {
  const user = await deps.store.getUserByUsername(username);
  if (!user) throw new ChatroomError('NOT_FOUND', 'No such user.');
  return user;
}

/** The group, or NOT_FOUND when it is missing, not the caller's, or not a group. */
async function groupOrNotFound(deps: FastifyInstance['deps'], convId: string, userId: string) {
  const { conversation } = await accessOrNotFound(deps, convId, userId);
  if (conversation.kind !== 'group') throw new ChatroomError('NOT_FOUND');
  return conversation;
}

export const groupRoutes: FastifyPluginAsync = async (app) => {
  const { deps } = app;
  const { store, hub } = deps;

  app.post<{ Body: { name: string; members: string[] } }>('/api/groups', { schema: { body: CreateGroupRequest } }, async (request) => {
    const auth = requireAuth(request);
    const memberIds = new Set([auth.userId]);
    for (const username of request.body.members) memberIds.add((await userByName(deps, username)).id);
    const group = await store.createGroup({ name: request.body.name, createdBy: auth.userId, memberIds: [...memberIds] });
    hub.notifyUsers(memberIds, { t: 'conversations' });
    const [view] = await summarize(deps, auth.userId, [group]);
    return view;
  });

  app.post<{ Params: IdParams; Body: { username: string } }>(
    '/api/groups/:id/members',
    { schema: { params: IdParams, body: AddMemberRequest } },
    async (request, reply) => {
      const auth = requireAuth(request);
      const group = await groupOrNotFound(deps, request.params.id, auth.userId);
      if (!deps.config.groupMembersCanInvite && group.createdBy !== auth.userId) {
        throw new ChatroomError('FORBIDDEN', 'Only the group’s creator can add people.');
      }
      const user = await userByName(deps, request.body.username);
      await store.addConversationMember(group.id, user.id);
      hub.notifyUsers(await store.listConversationMemberIds(group.id), { t: 'conversations' });
      return reply.code(204).send();
    },
  );

  app.post<{ Params: IdParams }>('/api/groups/:id/leave', { schema: { params: IdParams } }, async (request, reply) => {
    const auth = requireAuth(request);
    const group = await groupOrNotFound(deps, request.params.id, auth.userId);
    await store.removeConversationMember(group.id, auth.userId);
    hub.revoke(group.id, auth.userId);
    await recordMlsRemoval(deps, [group.id], auth.userId, 'left');
    hub.notifyUsers(await store.listConversationMemberIds(group.id), { t: 'conversations' });
    return reply.code(204).send();
  });

  app.post<{ Body: { username: string } }>('/api/dms', { schema: { body: CreateDmRequest } }, async (request) => {
    const auth = requireAuth(request);
    const other = await userByName(deps, request.body.username);
    if (other.id === auth.userId) throw new ChatroomError('BAD_REQUEST', 'Pick someone else to message.');
    const dm = await store.getOrCreateDm(auth.userId, other.id);
    hub.notifyUsers([auth.userId, other.id], { t: 'conversations' });
    const [view] = await summarize(deps, auth.userId, [dm]);
    return view;
  });
};
