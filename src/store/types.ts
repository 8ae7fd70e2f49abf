/**
 * The storage interface. SQLite (src/store/sqlite) is the default adapter; PostgreSQL comes later
 * and must pass the same contract test (test/store/contract.ts). Every method is async so that a
 * networked adapter fits; the SQLite adapter answers from one connection.
 *
 * Privacy: the store never receives an IP address, user agent or plaintext. Message bodies are
 * opaque bytes. Tokens (sessions, invites) are stored only as SHA-256 hashes.
 */

import type { MlsStore } from './mls-types.ts';

import type { BlobStore } from './blob-types.ts';

export type InstanceRole = 'owner' | 'admin' | 'member';
export type ServerRole = 'owner' | 'admin' | 'member';
export type ConversationKind = 'channel' | 'group' | 'dm';

export interface User {
  id: string;
  username: string;
  role: InstanceRole;
  createdAt: number;
}

/** What sign-in needs: the client-side KDF parameters and the server-side verifier. */
export interface Credentials {
  userId: string;
  /** 16 random bytes chosen by the client at sign-up. */
  salt: Uint8Array;
  iterations: number;
  /** argon2id PHC string of the client's login key. */
  verifier: string;
}

export interface SessionRecord {
  /** SHA-256 of the cookie token (hex). */
  tokenHash: string;
  userId: string;
  createdAt: number;
  expiresAt: number;
}

export interface InviteRecord {
  tokenHash: string;
  kind: 'setup' | 'invite';
  /** A server the invitee joins (besides the instance's default server). */
  serverId: string | null;
  createdBy: string | null;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

export interface ServerRecord {
  id: string;
  name: string;
  ownerId: string;
  createdAt: number;
  /** The instance's default server, which every new account joins. */
  isDefault: boolean;
}

export interface ConversationRecord {
  id: string;
  kind: ConversationKind;
  /** Channel or group name; '' for a DM. */
  name: string;
  /** Set for channels. */
  serverId: string | null;
  createdBy: string;
  createdAt: number;
  /** Newest seq (0 when empty). */
  head: number;
}

export interface MessageRecord {
  convId: string;
  /** Per conversation, from 1, no gaps. */
  seq: number;
  senderId: string;
  /** Server receive time, ms since the Unix epoch. */
  ts: number;
  body: Uint8Array;
}

/** What appendMessage stores. */
export interface AppendInput {
  convId: string;
  senderId: string;
  /** Server receive time, ms since the Unix epoch. */
  ts: number;
  body: Uint8Array;
  /**
   * The client's id for this send. A repeat of a (convId, senderId, ref) already stored is not
   * stored again: it resolves with the original message and `duplicate: true`.
   */
  ref?: string;
  /** Also move the sender's read position to the new seq, in the same transaction. */
  senderHasRead?: boolean;
}

/** A stored message; `duplicate` is true when the send repeated a known ref (nothing was written). */
export interface AppendedMessage extends MessageRecord {
  duplicate?: boolean;
}

/** The result of an access check: how the user may see this conversation, or null. */
export interface Access {
  conversation: ConversationRecord;
  /** For channels, the user's role in the server; for groups and DMs, 'member'. */
  role: ServerRole;
}

export interface Store {
  /** Attachment rows (src/store/blob-types.ts); the files themselves are the server's (src/server/blobs/). */
  readonly blobs: BlobStore;
  /** The MLS delivery service's tables (src/store/mls-types.ts). */
  readonly mls: MlsStore;
  /** Applies numbered migrations; throws ChatroomError SCHEMA_TOO_NEW for a newer database. */
  migrate(): Promise<void>;
  /** Flushes pending group commits, checkpoints the WAL and closes. */
  close(): Promise<void>;

  // ---- users and credentials
  /** Creates a user with credentials. Throws ChatroomError USERNAME_TAKEN (case-insensitive). */
  createUser(input: { username: string; role: InstanceRole; salt: Uint8Array; iterations: number; verifier: string }): Promise<User>;
  getUser(id: string): Promise<User | null>;
  /** Case-insensitive. */
  getUserByUsername(username: string): Promise<User | null>;
  getCredentials(userId: string): Promise<Credentials | null>;
  updateVerifier(userId: string, verifier: string): Promise<void>;
  countUsers(): Promise<number>;

  // ---- sessions
  createSession(s: SessionRecord): Promise<void>;
  /** Null when unknown or expired. */
  getSession(tokenHash: string): Promise<SessionRecord | null>;
  deleteSession(tokenHash: string): Promise<void>;
  /** Deletes every session of the user except `keepTokenHash`; returns the deleted hashes. */
  deleteOtherSessions(userId: string, keepTokenHash: string | null): Promise<string[]>;

  // ---- invites (setup links are invites of kind 'setup')
  createInvite(i: InviteRecord): Promise<void>;
  /** Null when unknown, used or expired (relative to `now`). */
  getUsableInvite(tokenHash: string, now: number): Promise<InviteRecord | null>;
  /** Atomically marks it used; false when it was already used or expired (a race lost). */
  consumeInvite(tokenHash: string, now: number): Promise<boolean>;

  // ---- servers, channels, membership
  /** Creates the server, adds the owner as 'owner', and creates its `general` channel. */
  createServer(input: { name: string; ownerId: string; isDefault?: boolean }): Promise<{ server: ServerRecord; general: ConversationRecord }>;
  getServer(id: string): Promise<ServerRecord | null>;
  getDefaultServer(): Promise<ServerRecord | null>;
  listServersOf(userId: string): Promise<Array<{ server: ServerRecord; role: ServerRole }>>;
  createChannel(input: { serverId: string; name: string; createdBy: string }): Promise<ConversationRecord>;
  listChannels(serverId: string): Promise<ConversationRecord[]>;
  /** Adds (or keeps) a member. Throws ChatroomError BANNED when the user is banned there. */
  addServerMember(serverId: string, userId: string, role?: ServerRole): Promise<void>;
  removeServerMember(serverId: string, userId: string): Promise<void>;
  getServerRole(serverId: string, userId: string): Promise<ServerRole | null>;
  listServerMembers(serverId: string): Promise<Array<{ user: User; role: ServerRole }>>;
  /** Bans (and removes) the user. */
  banFromServer(serverId: string, userId: string, bannedBy: string): Promise<void>;
  unbanFromServer(serverId: string, userId: string): Promise<void>;
  isBanned(serverId: string, userId: string): Promise<boolean>;

  // ---- groups and DMs
  createGroup(input: { name: string; createdBy: string; memberIds: string[] }): Promise<ConversationRecord>;
  /** Returns the existing DM between the two users or creates it. */
  getOrCreateDm(userA: string, userB: string): Promise<ConversationRecord>;
  addConversationMember(convId: string, userId: string): Promise<void>;
  removeConversationMember(convId: string, userId: string): Promise<void>;
  /** Groups and DMs the user is in. */
  listDirectConversationsOf(userId: string): Promise<ConversationRecord[]>;

  // ---- access (the one place that decides who may see a conversation)
  /**
   * Channel: the user is a member of its server and not banned. Group/DM: the user is a member.
   * Null otherwise — callers answer exactly as for a missing conversation.
   */
  getAccess(convId: string, userId: string): Promise<Access | null>;
  /** Every user id that may currently see the conversation. */
  listConversationMemberIds(convId: string): Promise<string[]>;
  getConversation(convId: string): Promise<ConversationRecord | null>;

  // ---- messages
  /**
   * Assigns the next seq and stores the message. Calls in the same event-loop turn are committed in
   * one transaction (group commit); the promise resolves only after that commit.
   */
  appendMessage(input: AppendInput): Promise<AppendedMessage>;
  /** Messages with seq > afterSeq, ascending, at most `limit`. */
  messagesAfter(convId: string, afterSeq: number, limit: number): Promise<MessageRecord[]>;
  /** Messages with seq < beforeSeq (or the newest when null), returned ascending, at most `limit`. */
  messagesBefore(convId: string, beforeSeq: number | null, limit: number): Promise<MessageRecord[]>;
  /** Deletes messages older than `cutoffTs` everywhere; returns how many. */
  purgeMessagesBefore(cutoffTs: number): Promise<number>;

  // ---- read state (unread counts)
  /**
   * Moves the read position to at least `seq` (never back). Joins the appends' group commit: calls
   * in one event-loop turn share their transaction, and the promise resolves after it commits.
   */
  setLastRead(userId: string, convId: string, seq: number): Promise<void>;
  /** convId → last read seq, for the given conversations (missing = 0). */
  getLastRead(userId: string, convIds: string[]): Promise<Map<string, number>>;
}
