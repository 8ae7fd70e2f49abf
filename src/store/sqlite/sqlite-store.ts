/** The SQLite adapter of the Store: one better-sqlite3 connection, group commit, checkpoints in a worker. */
import type Database from 'better-sqlite3';
import { ChatroomError } from '../../shared/errors.ts';
import type {
  Access,
  AppendInput,
  AppendedMessage,
  ConversationRecord,
  Credentials,
  InstanceRole,
  InviteRecord,
  MessageRecord,
  ServerRecord,
  ServerRole,
  SessionRecord,
  Store,
  User,
} from '../types.ts';
import { Checkpointer, type CheckpointMode, type CheckpointResult, type CheckpointerOptions } from './checkpointer.ts';
import { GroupCommitter } from './group-commit.ts';
import { newId } from './ids.ts';
import { statementCache, type StatementCache } from './statements.ts';
import { SqliteBlobStore } from './blob-store.ts';
import { SqliteMlsStore } from './mls-store.ts';
import { migrateDatabase } from './migrate.ts';
import {
  convCols,
  serverCols,
  toConversation,
  toInvite,
  toMessage,
  toServer,
  toSession,
  toUser,
  userCols,
  type ConversationRow,
  type InviteRow,
  type MessageRow,
  type ServerRow,
  type SessionRow,
  type UserRow,
} from './rows.ts';

/** Rows deleted per purge transaction; the purge yields to the event loop between chunks. */
const PURGE_CHUNK_ROWS = 2000;
/** A purge's TRUNCATE checkpoint is tried this often, waiting TRUNCATE_RETRY_MS × attempt between. */
const TRUNCATE_ATTEMPTS = 4;
const TRUNCATE_RETRY_MS = 50;
/** Largest page a history query returns, whatever the caller asks. */
const MAX_PAGE = 1000;

export interface SqliteStoreOptions {
  checkpoints?: CheckpointerOptions;
}

/** Counters for tests and benchmarks (not part of the Store interface). */
export interface SqliteStoreStats {
  appendTransactions: number;
  appendedMessages: number;
  /** Read positions written through the group commit. */
  readPositions: number;
  /** Checkpoints run on the main connection (only when the worker is gone). */
  mainThreadCheckpoints: number;
  /** The longest one group commit took on the event loop, ms. */
  maxCommitMs: number;
  checkpoints: number;
}

function sqliteCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null ? (err as { code?: string }).code : undefined;
}

function isUniqueViolation(err: unknown): boolean {
  return sqliteCode(err) === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** Runs a write; an id that names no user, server or conversation becomes NOT_FOUND, not a raw SqliteError. */
function referencing<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (sqliteCode(err) === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw new ChatroomError('NOT_FOUND', 'No such user, server or conversation.');
    throw err;
  }
}

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function clampLimit(limit: number): number {
  if (!Number.isFinite(limit) || limit <= 0) return 0;
  return Math.min(Math.floor(limit), MAX_PAGE);
}

/** The Store on one SQLite file; open it with openSqliteStore/openStore (src/store/index.ts), which migrate first. */
export class SqliteStore implements Store {
  readonly blobs: SqliteBlobStore;
  readonly mls: SqliteMlsStore;
  /** Statements prepared once per SQL text. */
  private readonly q: StatementCache;
  private readonly committer: GroupCommitter;
  private readonly checkpointer: Checkpointer;
  private mainThreadCheckpoints = 0;
  private closed = false;
  private closing: Promise<void> | null = null;
  private purging: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: Database.Database,
    file: string,
    opts: SqliteStoreOptions = {},
  ) {
    this.q = statementCache(db);
    this.mls = new SqliteMlsStore(db);
    this.blobs = new SqliteBlobStore(db);
    this.committer = new GroupCommitter(db, file, () => this.checkpointer.noteCommit());
    this.checkpointer = new Checkpointer(
      file,
      {
        pause: () => this.committer.pause(),
        resume: () => this.committer.resume(),
        // SQLite's default: checkpoint on the writer after a commit once the WAL passes 1000 pages.
        fallBack: () => {
          if (!this.closed) this.db.pragma('wal_autocheckpoint = 1000');
        },
      },
      opts.checkpoints,
    );
  }


  async migrate(): Promise<void> {
    migrateDatabase(this.db);
  }

  /** Group-commit and checkpoint counters. */
  stats(): SqliteStoreStats {
    return {
      appendTransactions: this.committer.stats.transactions,
      appendedMessages: this.committer.stats.messages,
      readPositions: this.committer.stats.readPositions,
      mainThreadCheckpoints: this.mainThreadCheckpoints,
      maxCommitMs: Math.round(this.committer.stats.maxCommitMs * 10) / 10,
      checkpoints: this.checkpointer.count + this.mainThreadCheckpoints,
    };
  }

  /** Resolves after the checkpoint worker's next periodic checkpoint that `match`es (for tests). */
  nextPeriodicCheckpoint(match?: (r: CheckpointResult) => boolean): Promise<CheckpointResult> {
    return this.checkpointer.nextPeriodic(match);
  }

  /** The connection's durability and privacy settings, as SQLite reports them. */
  settings(): { journalMode: string; synchronous: number; secureDelete: number; foreignKeys: number; busyTimeoutMs: number; walAutocheckpoint: number } {
    const get = (name: string) => this.db.pragma(name, { simple: true });
    return {
      journalMode: get('journal_mode') as string,
      synchronous: get('synchronous') as number,
      secureDelete: get('secure_delete') as number,
      foreignKeys: get('foreign_keys') as number,
      busyTimeoutMs: get('busy_timeout') as number,
      walAutocheckpoint: get('wal_autocheckpoint') as number,
    };
  }

  /**
   * Runs a WAL checkpoint off the event loop (on this thread only if the worker is gone). A
   * TRUNCATE that a reader in another process blocks is retried a few times, ms apart.
   */
  async checkpoint(mode: CheckpointMode): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const busy = await this.checkpointOnce(mode);
      if (!busy || mode === 'PASSIVE' || attempt >= TRUNCATE_ATTEMPTS || this.closed) return;
      await new Promise<void>((resolve) => setTimeout(resolve, TRUNCATE_RETRY_MS * attempt));
    }
  }

  /** One checkpoint; true when a lock kept it from finishing. */
  private async checkpointOnce(mode: CheckpointMode): Promise<boolean> {
    if (this.checkpointer.alive) {
      try {
        return (await this.checkpointer.checkpoint(mode)).busy !== 0;
      } catch (err) {
        if (this.checkpointer.alive) throw err;
      }
    }
    const [r] = this.db.pragma(`wal_checkpoint(${mode})`) as Array<{ busy: number }>;
    this.mainThreadCheckpoints++;
    return r.busy !== 0;
  }

  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    this.closed = true;
    await this.committer.close();
    await this.purging.catch(() => {});
    await this.checkpointer.stop();
    // Leave no WAL behind: its frames (and any deleted bytes) go into the main file. PASSIVE copies
    // without the write lock; the TRUNCATE then holds it only briefly, and gives up at once rather
    // than wait while another process (the server, when this is the CLI) reads or writes.
    try {
      this.db.pragma('wal_checkpoint(PASSIVE)');
      this.db.pragma('busy_timeout = 0');
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.close();
    }
  }

  // ---- users and credentials

  async createUser(input: { username: string; role: InstanceRole; salt: Uint8Array; iterations: number; verifier: string }): Promise<User> {
    const user: User = { id: newId(), username: input.username, role: input.role, createdAt: Date.now() };
    try {
      this.q(
        'INSERT INTO users (id, username, username_key, role, created_at, salt, iterations, verifier) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(user.id, user.username, input.username.toLowerCase(), user.role, user.createdAt, asBuffer(input.salt), input.iterations, input.verifier);
    } catch (err) {
      if (isUniqueViolation(err)) throw new ChatroomError('USERNAME_TAKEN');
      throw err;
    }
    return user;
  }

  async getUser(id: string): Promise<User | null> {
    const r = this.q<UserRow>(`SELECT ${userCols} FROM users u WHERE u.id = ?`).get(id);
    return r ? toUser(r) : null;
  }

  async getUserByUsername(username: string): Promise<User | null> {
    const r = this.q<UserRow>(`SELECT ${userCols} FROM users u WHERE u.username_key = ?`).get(username.toLowerCase());
    return r ? toUser(r) : null;
  }

  async getCredentials(userId: string): Promise<Credentials | null> {
    const r = this.q<{ salt: Buffer; iterations: number; verifier: string }>('SELECT salt, iterations, verifier FROM users WHERE id = ?').get(userId);
    return r ? { userId, salt: new Uint8Array(r.salt), iterations: r.iterations, verifier: r.verifier } : null;
  }

  async updateVerifier(userId: string, verifier: string): Promise<void> {
    this.q('UPDATE users SET verifier = ? WHERE id = ?').run(verifier, userId);
  }

  async countUsers(): Promise<number> {
    return this.q<{ n: number }>('SELECT count(*) AS n FROM users').get()!.n;
  }

  // ---- sessions

  async createSession(s: SessionRecord): Promise<void> {
    return referencing(() => {
      this.q('INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)').run(s.tokenHash, s.userId, s.createdAt, s.expiresAt);
    });
  }

  async getSession(tokenHash: string): Promise<SessionRecord | null> {
    const r = this.q<SessionRow>('SELECT token_hash, user_id, created_at, expires_at FROM sessions WHERE token_hash = ?').get(tokenHash);
    if (!r) return null;
    if (r.expires_at <= Date.now()) {
      this.q('DELETE FROM sessions WHERE token_hash = ?').run(tokenHash);
      return null;
    }
    return toSession(r);
  }

  async deleteSession(tokenHash: string): Promise<void> {
    this.q('DELETE FROM sessions WHERE token_hash = ?').run(tokenHash);
  }

  async deleteOtherSessions(userId: string, keepTokenHash: string | null): Promise<string[]> {
    const rows = this.q<{ token_hash: string }>(
      'DELETE FROM sessions WHERE user_id = ? AND token_hash IS NOT ? RETURNING token_hash',
    ).all(userId, keepTokenHash);
    return rows.map((r) => r.token_hash);
  }

  // ---- invites

  async createInvite(i: InviteRecord): Promise<void> {
    return referencing(() => {
      this.q(
        'INSERT INTO invites (token_hash, kind, server_id, created_by, created_at, expires_at, used_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ).run(i.tokenHash, i.kind, i.serverId, i.createdBy, i.createdAt, i.expiresAt, i.usedAt);
    });
  }

  async getUsableInvite(tokenHash: string, now: number): Promise<InviteRecord | null> {
    const r = this.q<InviteRow>(
      'SELECT token_hash, kind, server_id, created_by, created_at, expires_at, used_at FROM invites WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?',
    ).get(tokenHash, now);
    return r ? toInvite(r) : null;
  }

  async consumeInvite(tokenHash: string, now: number): Promise<boolean> {
    // One UPDATE with the conditions in its WHERE: of two racing consumers (even in two processes) one wins.
    const r = this.q('UPDATE invites SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?').run(now, tokenHash, now);
    return r.changes === 1;
  }

  // ---- servers, channels, membership

  async createServer(input: { name: string; ownerId: string; isDefault?: boolean }): Promise<{ server: ServerRecord; general: ConversationRecord }> {
    const now = Date.now();
    const server: ServerRecord = { id: newId(), name: input.name, ownerId: input.ownerId, createdAt: now, isDefault: input.isDefault === true };
    const general: ConversationRecord = { id: newId(), kind: 'channel', name: 'general', serverId: server.id, createdBy: input.ownerId, createdAt: now, head: 0 };
    try {
      this.db.transaction(() => {
        this.q('INSERT INTO servers (id, name, owner_id, created_at, is_default) VALUES (?, ?, ?, ?, ?)').run(
          server.id,
          server.name,
          server.ownerId,
          now,
          server.isDefault ? 1 : 0,
        );
        this.q("INSERT INTO server_members (server_id, user_id, role, joined_at) VALUES (?, ?, 'owner', ?)").run(server.id, server.ownerId, now);
        this.insertConversation(general, null);
      }).immediate();
    } catch (err) {
      if (isUniqueViolation(err) && server.isDefault) throw new ChatroomError('BAD_REQUEST', 'This instance already has a default server.');
      throw err;
    }
    return { server, general };
  }

  private insertConversation(c: ConversationRecord, dmKey: string | null): void {
    this.q('INSERT INTO conversations (id, kind, name, server_id, created_by, created_at, head, dm_key) VALUES (?, ?, ?, ?, ?, ?, 0, ?)').run(
      c.id,
      c.kind,
      c.name,
      c.serverId,
      c.createdBy,
      c.createdAt,
      dmKey,
    );
  }

  async getServer(id: string): Promise<ServerRecord | null> {
    const r = this.q<ServerRow>(`SELECT ${serverCols} FROM servers s WHERE s.id = ?`).get(id);
    return r ? toServer(r) : null;
  }

  async getDefaultServer(): Promise<ServerRecord | null> {
    const r = this.q<ServerRow>(`SELECT ${serverCols} FROM servers s WHERE s.is_default = 1`).get();
    return r ? toServer(r) : null;
  }

  async listServersOf(userId: string): Promise<Array<{ server: ServerRecord; role: ServerRole }>> {
    const rows = this.q<ServerRow & { role: ServerRole }>(
      `SELECT ${serverCols}, m.role FROM server_members m JOIN servers s ON s.id = m.server_id
       WHERE m.user_id = ? ORDER BY s.is_default DESC, s.created_at, s.rowid`,
    ).all(userId);
    return rows.map((r) => ({ server: toServer(r), role: r.role }));
  }

  async createChannel(input: { serverId: string; name: string; createdBy: string }): Promise<ConversationRecord> {
    return referencing(() => {
      const c: ConversationRecord = { id: newId(), kind: 'channel', name: input.name, serverId: input.serverId, createdBy: input.createdBy, createdAt: Date.now(), head: 0 };
      this.insertConversation(c, null);
      return c;
    });
  }

  async listChannels(serverId: string): Promise<ConversationRecord[]> {
    const rows = this.q<ConversationRow>(`SELECT ${convCols} FROM conversations c WHERE c.server_id = ? AND c.kind = 'channel' ORDER BY c.created_at, c.rowid`).all(serverId);
    return rows.map(toConversation);
  }

  async addServerMember(serverId: string, userId: string, role: ServerRole = 'member'): Promise<void> {
    return referencing(() => {
      this.db.transaction(() => {
        if (this.q('SELECT 1 FROM server_bans WHERE server_id = ? AND user_id = ?').get(serverId, userId)) throw new ChatroomError('BANNED');
        this.q('INSERT INTO server_members (server_id, user_id, role, joined_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING').run(serverId, userId, role, Date.now());
      }).immediate();
    });
  }

  async removeServerMember(serverId: string, userId: string): Promise<void> {
    this.q('DELETE FROM server_members WHERE server_id = ? AND user_id = ?').run(serverId, userId);
  }

  async getServerRole(serverId: string, userId: string): Promise<ServerRole | null> {
    const r = this.q<{ role: ServerRole }>('SELECT role FROM server_members WHERE server_id = ? AND user_id = ?').get(serverId, userId);
    return r?.role ?? null;
  }

  async listServerMembers(serverId: string): Promise<Array<{ user: User; role: ServerRole }>> {
    const rows = this.q<UserRow & { member_role: ServerRole }>(
      `SELECT ${userCols}, m.role AS member_role FROM server_members m JOIN users u ON u.id = m.user_id
       WHERE m.server_id = ? ORDER BY m.joined_at, u.username_key`,
    ).all(serverId);
    return rows.map((r) => ({ user: toUser(r), role: r.member_role }));
  }

  async banFromServer(serverId: string, userId: string, bannedBy: string): Promise<void> {
    return referencing(() => {
      this.db.transaction(() => {
        this.q('DELETE FROM server_members WHERE server_id = ? AND user_id = ?').run(serverId, userId);
        this.q('INSERT INTO server_bans (server_id, user_id, banned_by, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING').run(
          serverId,
          userId,
          bannedBy,
          Date.now(),
        );
      }).immediate();
    });
  }

  async unbanFromServer(serverId: string, userId: string): Promise<void> {
    this.q('DELETE FROM server_bans WHERE server_id = ? AND user_id = ?').run(serverId, userId);
  }

  async isBanned(serverId: string, userId: string): Promise<boolean> {
    return this.q('SELECT 1 FROM server_bans WHERE server_id = ? AND user_id = ?').get(serverId, userId) !== undefined;
  }

  // ---- groups and DMs

  async createGroup(input: { name: string; createdBy: string; memberIds: string[] }): Promise<ConversationRecord> {
    return referencing(() => {
      const c: ConversationRecord = { id: newId(), kind: 'group', name: input.name, serverId: null, createdBy: input.createdBy, createdAt: Date.now(), head: 0 };
      const members = new Set([input.createdBy, ...input.memberIds]);
      this.db.transaction(() => {
        this.insertConversation(c, null);
        for (const userId of members) this.insertConversationMember(c.id, userId, c.createdAt);
      }).immediate();
      return c;
    });
  }

  private insertConversationMember(convId: string, userId: string, now: number): void {
    this.q('INSERT INTO conversation_members (conv_id, user_id, added_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run(convId, userId, now);
  }

  async getOrCreateDm(userA: string, userB: string): Promise<ConversationRecord> {
    return referencing(() => {
      const dmKey = [userA, userB].sort().join(' ');
      return this.db.transaction(() => {
        const existing = this.q<ConversationRow>(`SELECT ${convCols} FROM conversations c WHERE c.dm_key = ?`).get(dmKey);
        if (existing) return toConversation(existing);
        const c: ConversationRecord = { id: newId(), kind: 'dm', name: '', serverId: null, createdBy: userA, createdAt: Date.now(), head: 0 };
        this.insertConversation(c, dmKey);
        this.insertConversationMember(c.id, userA, c.createdAt);
        this.insertConversationMember(c.id, userB, c.createdAt);
        return c;
      }).immediate();
    });
  }

  async addConversationMember(convId: string, userId: string): Promise<void> {
    return referencing(() => {
      const c = this.q<{ kind: string }>('SELECT kind FROM conversations WHERE id = ?').get(convId);
      if (!c) throw new ChatroomError('NOT_FOUND');
      // Channel membership is the server's; a DM is always exactly its pair.
      if (c.kind !== 'group') throw new ChatroomError('BAD_REQUEST', `Members can be added only to a group, not to a ${c.kind}.`);
      this.insertConversationMember(convId, userId, Date.now());
    });
  }

  async removeConversationMember(convId: string, userId: string): Promise<void> {
    this.q('DELETE FROM conversation_members WHERE conv_id = ? AND user_id = ?').run(convId, userId);
  }

  async listDirectConversationsOf(userId: string): Promise<ConversationRecord[]> {
    const rows = this.q<ConversationRow>(
      `SELECT ${convCols} FROM conversation_members m JOIN conversations c ON c.id = m.conv_id
       WHERE m.user_id = ? AND c.kind IN ('group', 'dm') ORDER BY c.created_at, c.rowid`,
    ).all(userId);
    return rows.map(toConversation);
  }

  // ---- access

  async getAccess(convId: string, userId: string): Promise<Access | null> {
    const c = this.q<ConversationRow>(`SELECT ${convCols} FROM conversations c WHERE c.id = ?`).get(convId);
    if (!c) return null;
    if (c.kind === 'channel') {
      const r = this.q<{ role: ServerRole }>(
        `SELECT m.role FROM server_members m
         WHERE m.server_id = ? AND m.user_id = ?
           AND NOT EXISTS (SELECT 1 FROM server_bans b WHERE b.server_id = m.server_id AND b.user_id = m.user_id)`,
      ).get(c.server_id, userId);
      return r ? { conversation: toConversation(c), role: r.role } : null;
    }
    const member = this.q('SELECT 1 FROM conversation_members WHERE conv_id = ? AND user_id = ?').get(convId, userId);
    return member ? { conversation: toConversation(c), role: 'member' } : null;
  }

  async listConversationMemberIds(convId: string): Promise<string[]> {
    const c = this.q<{ kind: string; server_id: string | null }>('SELECT kind, server_id FROM conversations WHERE id = ?').get(convId);
    if (!c) return [];
    const rows =
      c.kind === 'channel'
        ? this.q<{ user_id: string }>(
            `SELECT m.user_id FROM server_members m WHERE m.server_id = ?
               AND NOT EXISTS (SELECT 1 FROM server_bans b WHERE b.server_id = m.server_id AND b.user_id = m.user_id)
             ORDER BY m.joined_at, m.user_id`,
          ).all(c.server_id)
        : this.q<{ user_id: string }>('SELECT user_id FROM conversation_members WHERE conv_id = ? ORDER BY added_at, user_id').all(convId);
    return rows.map((r) => r.user_id);
  }

  async getConversation(convId: string): Promise<ConversationRecord | null> {
    const r = this.q<ConversationRow>(`SELECT ${convCols} FROM conversations c WHERE c.id = ?`).get(convId);
    return r ? toConversation(r) : null;
  }

  // ---- messages

  appendMessage(input: AppendInput): Promise<AppendedMessage> {
    if (this.closed) return Promise.reject(new Error('the store is closed'));
    return this.committer.append(input);
  }

  async messagesAfter(convId: string, afterSeq: number, limit: number): Promise<MessageRecord[]> {
    const rows = this.q<MessageRow>('SELECT conv_id, seq, sender_id, ts, body FROM messages WHERE conv_id = ? AND seq > ? ORDER BY seq LIMIT ?').all(
      convId,
      afterSeq,
      clampLimit(limit),
    );
    return rows.map(toMessage);
  }

  async messagesBefore(convId: string, beforeSeq: number | null, limit: number): Promise<MessageRecord[]> {
    const rows = this.q<MessageRow>('SELECT conv_id, seq, sender_id, ts, body FROM messages WHERE conv_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?').all(
      convId,
      beforeSeq ?? Number.MAX_SAFE_INTEGER,
      clampLimit(limit),
    );
    return rows.reverse().map(toMessage);
  }

  purgeMessagesBefore(cutoffTs: number): Promise<number> {
    if (this.closed) return Promise.reject(new Error('the store is closed'));
    const run = this.purging.catch(() => {}).then(() => this.purgeInChunks(cutoffTs));
    this.purging = run;
    return run;
  }

  private async purgeInChunks(cutoffTs: number): Promise<number> {
    const del = this.q('DELETE FROM messages WHERE rowid IN (SELECT rowid FROM messages WHERE ts < ? LIMIT ?)');
    let total = 0;
    for (;;) {
      if (this.closed) break;
      const n = del.run(cutoffTs, PURGE_CHUNK_ROWS).changes;
      total += n;
      if (n < PURGE_CHUNK_ROWS) break;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    // Their attachments' rows went with them (foreign key cascade): the files' owner unlinks the files.
    if (total > 0) this.blobs.noteMessagesDeleted();
    // secure_delete zeroed the rows in the pages, but older copies of those pages sit in the WAL
    // until a checkpoint copies and truncates it.
    if (total > 0 && !this.closed) await this.checkpoint('TRUNCATE');
    return total;
  }

  // ---- read state

  setLastRead(userId: string, convId: string, seq: number): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the store is closed'));
    return this.committer.setLastRead(userId, convId, seq);
  }

  async getLastRead(userId: string, convIds: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (convIds.length === 0) return out;
    const rows = this.q<{ conv_id: string; last_read_seq: number }>(
      'SELECT conv_id, last_read_seq FROM read_state WHERE user_id = ? AND conv_id IN (SELECT value FROM json_each(?))',
    ).all(userId, JSON.stringify(convIds));
    for (const id of convIds) out.set(id, 0);
    for (const r of rows) out.set(r.conv_id, r.last_read_seq);
    return out;
  }
}
