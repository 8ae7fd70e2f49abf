/**
 * Builds the API's conversation views from store records, and the one access check every
 * conversation route uses: a conversation the caller may not see is NOT_FOUND, like a missing one.
 */
import type { FastifyInstance } from 'fastify';
import type { Access, ConversationRecord, ServerRecord, ServerRole } from '../../store/types.ts';
import type { ConversationList, ConversationSummary, ServerSummary } from '../../shared/api.ts';
import { ChatroomError } from '../../shared/errors.ts';

type Deps = FastifyInstance['deps'];

/** The caller's access to a conversation, or NOT_FOUND (identical for "missing" and "not yours"). */
export async function accessOrNotFound(deps: Deps, convId: string, userId: string): Promise<Access> {
  const access = await deps.store.getAccess(convId, userId);
  if (!access) throw new ChatroomError('NOT_FOUND');
  return access;
}

/** The caller's role in a server, or NOT_FOUND when it does not exist or they are not a member. */
export async function serverRoleOrNotFound(deps: Deps, serverId: string, userId: string): Promise<ServerRole> {
  const role = await deps.store.getServerRole(serverId, userId);
  if (!role) throw new ChatroomError('NOT_FOUND');
  return role;
}

/** Owner or admin of the server, else FORBIDDEN (a non-member gets NOT_FOUND first). */
export async function requireServerModerator(deps: Deps, serverId: string, userId: string): Promise<ServerRole> {
  const role = await serverRoleOrNotFound(deps, serverId, userId);
  if (role !== 'owner' && role !== 'admin') throw new ChatroomError('FORBIDDEN');
  return role;
}

/** A DM is named after the other person. */
async function displayName(deps: Deps, conv: ConversationRecord, userId: string): Promise<string> {
  if (conv.kind !== 'dm') return conv.name;
  const ids = await deps.store.listConversationMemberIds(conv.id);
  const otherId = ids.find((id) => id !== userId) ?? userId;
  return (await deps.store.getUser(otherId))?.username ?? '';
}

function summary(conv: ConversationRecord, name: string, lastRead: number): ConversationSummary {
  const s: ConversationSummary = {
    id: conv.id,
    kind: conv.kind,
    name,
    head: conv.head,
    lastRead: Math.min(lastRead, conv.head),
    unread: Math.max(0, conv.head - lastRead),
  };
  if (conv.serverId) s.serverId = conv.serverId;
  return s;
}

/** Summaries of these conversations for this user, in the same order. */
export async function summarize(deps: Deps, userId: string, convs: ConversationRecord[]): Promise<ConversationSummary[]> {
  const lastRead = await deps.store.getLastRead(userId, convs.map((c) => c.id));
  return Promise.all(convs.map(async (c) => summary(c, await displayName(deps, c, userId), lastRead.get(c.id) ?? 0)));
}

export async function serverSummary(deps: Deps, userId: string, server: ServerRecord, role: ServerRole): Promise<ServerSummary> {
  const channels = await summarize(deps, userId, await deps.store.listChannels(server.id));
  return { id: server.id, name: server.name, role, channels };
}

/** GET /api/conversations: servers with their channels (default server first), groups, DMs. */
export async function conversationList(deps: Deps, userId: string): Promise<ConversationList> {
  const memberships = await deps.store.listServersOf(userId);
  memberships.sort((a, b) => Number(b.server.isDefault) - Number(a.server.isDefault));
  const servers = await Promise.all(memberships.map((m) => serverSummary(deps, userId, m.server, m.role)));
  const direct = await summarize(deps, userId, await deps.store.listDirectConversationsOf(userId));
  return {
    servers,
    groups: direct.filter((c) => c.kind === 'group'),
    dms: direct.filter((c) => c.kind === 'dm'),
  };
}

/** The user lost a server: drop their channel subscriptions and tell their clients (revoke does both). */
export async function revokeServer(deps: Deps, serverId: string, userId: string): Promise<void> {
  const channels = await deps.store.listChannels(serverId);
  for (const channel of channels) deps.hub.revoke(channel.id, userId);
  if (channels.length === 0) deps.hub.notifyUsers([userId], { t: 'conversations' });
}

/** Everyone who can see the server (to refresh their lists after a change there). */
export async function serverMemberIds(deps: Deps, serverId: string): Promise<string[]> {
  return (await deps.store.listServerMembers(serverId)).map((m) => m.user.id);
}
