/** Row shapes as SQLite returns them, and their mapping to the Store's records. */
import type { ConversationKind, ConversationRecord, InstanceRole, InviteRecord, MessageRecord, ServerRecord, SessionRecord, User } from '../types.ts';

/** Rows as SQLite returns them (snake_case columns). */
export interface UserRow {
  id: string;
  username: string;
  role: InstanceRole;
  created_at: number;
}
export interface ServerRow {
  id: string;
  name: string;
  owner_id: string;
  created_at: number;
  is_default: number;
}
export interface ConversationRow {
  id: string;
  kind: ConversationKind;
  name: string;
  server_id: string | null;
  created_by: string;
  created_at: number;
  head: number;
}
export interface SessionRow {
  token_hash: string;
  user_id: string;
  created_at: number;
  expires_at: number;
}
export interface InviteRow {
  token_hash: string;
  kind: 'setup' | 'invite';
  server_id: string | null;
  created_by: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}
export interface MessageRow {
  conv_id: string;
  seq: number;
  sender_id: string;
  ts: number;
  body: Buffer;
}

/** Column lists for SELECTs, matching the row types above (tables aliased u, s, c). */
export const userCols = 'u.id, u.username, u.role, u.created_at';
export const serverCols = 's.id, s.name, s.owner_id, s.created_at, s.is_default';
export const convCols = 'c.id, c.kind, c.name, c.server_id, c.created_by, c.created_at, c.head';

/** Row → record mappers. */
export const toUser = (r: UserRow): User => ({ id: r.id, username: r.username, role: r.role, createdAt: r.created_at });

export const toServer = (r: ServerRow): ServerRecord => ({
  id: r.id,
  name: r.name,
  ownerId: r.owner_id,
  createdAt: r.created_at,
  isDefault: r.is_default === 1,
});

export const toConversation = (r: ConversationRow): ConversationRecord => ({
  id: r.id,
  kind: r.kind,
  name: r.name,
  serverId: r.server_id,
  createdBy: r.created_by,
  createdAt: r.created_at,
  head: r.head,
});

export const toSession = (r: SessionRow): SessionRecord => ({
  tokenHash: r.token_hash,
  userId: r.user_id,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
});

export const toInvite = (r: InviteRow): InviteRecord => ({
  tokenHash: r.token_hash,
  kind: r.kind,
  serverId: r.server_id,
  createdBy: r.created_by,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  usedAt: r.used_at,
});

export const toMessage = (r: MessageRow): MessageRecord => ({
  convId: r.conv_id,
  seq: r.seq,
  senderId: r.sender_id,
  ts: r.ts,
  body: r.body,
});

