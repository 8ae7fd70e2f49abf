/** Reading conversations: the caller's list, message history pages and member lists. */
import type { FastifyPluginAsync } from 'fastify';
import { HistoryQuery, type HistoryPage, type Member, type StoredMessage } from '../../shared/api.ts';
import { requireAuth } from '../plugins/authenticate.ts';
import { IdParams } from './params.ts';
import { accessOrNotFound, conversationList } from './views.ts';

/** Messages per history page when the client does not say. */
const DEFAULT_PAGE = 50;

export const conversationRoutes: FastifyPluginAsync = async (app) => {
  const { deps } = app;
  const { store, hub } = deps;

  app.get('/api/conversations', async (request) => conversationList(deps, requireAuth(request).userId));

  app.get<{ Params: IdParams; Querystring: { before?: number; limit?: number } }>(
    '/api/conversations/:id/messages',
    { schema: { params: IdParams, querystring: HistoryQuery } },
    async (request): Promise<HistoryPage> => {
      const auth = requireAuth(request);
      const { conversation } = await accessOrNotFound(deps, request.params.id, auth.userId);
      const limit = request.query.limit ?? DEFAULT_PAGE;
      // One extra row tells whether an older page exists.
      const rows = await store.messagesBefore(conversation.id, request.query.before ?? null, limit + 1);
      const hasMore = rows.length > limit;
      const page = hasMore ? rows.slice(rows.length - limit) : rows;
      const names = new Map<string, string>();
      for (const id of new Set(page.map((m) => m.senderId))) names.set(id, (await store.getUser(id))?.username ?? '');
      const messages: StoredMessage[] = page.map((m) => ({
        conv: m.convId,
        seq: m.seq,
        sender: m.senderId,
        senderName: names.get(m.senderId) ?? '',
        ts: m.ts,
        body: Buffer.from(m.body).toString('base64'),
      }));
      return { messages, hasMore };
    },
  );

  app.get<{ Params: IdParams }>('/api/conversations/:id/members', { schema: { params: IdParams } }, async (request) => {
    const auth = requireAuth(request);
    const { conversation } = await accessOrNotFound(deps, request.params.id, auth.userId);
    let members: Member[];
    if (conversation.kind === 'channel' && conversation.serverId) {
      const rows = await store.listServerMembers(conversation.serverId);
      members = rows.map(({ user, role }) => ({ id: user.id, username: user.username, role, online: hub.isOnline(user.id) }));
    } else {
      const ids = await store.listConversationMemberIds(conversation.id);
      const users = await Promise.all(ids.map((id) => store.getUser(id)));
      members = users.filter((u) => u !== null).map((u) => ({ id: u.id, username: u.username, online: hub.isOnline(u.id) }));
    }
    return { members };
  });
};
