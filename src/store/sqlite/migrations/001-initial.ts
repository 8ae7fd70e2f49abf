/** Schema version 1: accounts, sessions, invites, servers, conversations, messages, read state. */
export const sql = `
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL,
  -- username.toLowerCase(): uniqueness is case-insensitive beyond ASCII (COLLATE NOCASE is ASCII-only)
  username_key TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  created_at INTEGER NOT NULL,
  salt BLOB NOT NULL,
  iterations INTEGER NOT NULL,
  verifier TEXT NOT NULL
);

CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_by_user ON sessions(user_id);

CREATE TABLE servers (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  owner_id TEXT NOT NULL REFERENCES users(id),
  created_at INTEGER NOT NULL,
  is_default INTEGER NOT NULL DEFAULT 0
);
-- At most one default server per instance.
CREATE UNIQUE INDEX servers_one_default ON servers(is_default) WHERE is_default = 1;

CREATE TABLE invites (
  token_hash TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('setup', 'invite')),
  server_id TEXT REFERENCES servers(id) ON DELETE CASCADE,
  created_by TEXT REFERENCES users(id) ON DELETE SET NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);

CREATE TABLE server_members (
  server_id TEXT NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  joined_at INTEGER NOT NULL,
  PRIMARY KEY (server_id, user_id)
);
CREATE INDEX server_members_by_user ON server_members(user_id);

CREATE TABLE server_bans (
  server_id TEXT NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  banned_by TEXT REFERENCES users(id) ON DELETE SET NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (server_id, user_id)
);

CREATE TABLE conversations (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('channel', 'group', 'dm')),
  name TEXT NOT NULL,
  server_id TEXT REFERENCES servers(id) ON DELETE CASCADE,
  created_by TEXT NOT NULL REFERENCES users(id),
  created_at INTEGER NOT NULL,
  head INTEGER NOT NULL DEFAULT 0,
  -- For DMs: the two user ids sorted and joined with a space, so a pair has one DM.
  dm_key TEXT UNIQUE,
  CHECK ((kind = 'channel') = (server_id IS NOT NULL)),
  CHECK ((kind = 'dm') = (dm_key IS NOT NULL))
);
CREATE INDEX conversations_by_server ON conversations(server_id) WHERE server_id IS NOT NULL;

CREATE TABLE conversation_members (
  conv_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  added_at INTEGER NOT NULL,
  PRIMARY KEY (conv_id, user_id)
);
CREATE INDEX conversation_members_by_user ON conversation_members(user_id);

CREATE TABLE messages (
  conv_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  sender_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  ts INTEGER NOT NULL,
  -- Opaque ciphertext: never decoded by the server.
  body BLOB NOT NULL,
  PRIMARY KEY (conv_id, seq)
);
-- Retention purges by age.
CREATE INDEX messages_by_ts ON messages(ts);

CREATE TABLE read_state (
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  conv_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  last_read_seq INTEGER NOT NULL,
  PRIMARY KEY (user_id, conv_id)
);
`;
