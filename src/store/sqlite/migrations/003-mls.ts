/**
 * Schema version 3: the MLS delivery service. Every BLOB is opaque MLS or ciphertext; the server
 * never decrypts it. Retention: consumed KeyPackages, picked-up Welcomes and Welcomes older than
 * MlsLimits.welcomeTtlMs are deleted (secure_delete zeroes them); commits stay while their group exists, because a member catching up after a long
 * time offline needs every commit since its epoch. IF NOT EXISTS: a database rewound to an older
 * user_version (as a migration test does) still has these tables, and running this again must work.
 */
export const sql = `
CREATE TABLE IF NOT EXISTS mls_devices (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  -- The session that registered (or last rebound) the device; it ends with that session.
  session_hash TEXT UNIQUE REFERENCES sessions(token_hash) ON DELETE SET NULL,
  -- SHA-256 (hex) of the secret the device presents to rebind itself to a new session.
  rebind_hash TEXT NOT NULL,
  label TEXT NOT NULL,
  -- NULL until the client uploads it: the certificate signs the id the server assigned.
  certificate BLOB,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS mls_devices_by_user ON mls_devices(user_id, created_at);

CREATE TABLE IF NOT EXISTS mls_key_packages (
  id INTEGER PRIMARY KEY,
  device_id TEXT NOT NULL REFERENCES mls_devices(id) ON DELETE CASCADE,
  last_resort INTEGER NOT NULL CHECK (last_resort IN (0, 1)),
  data BLOB NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS mls_key_packages_by_device ON mls_key_packages(device_id, last_resort, id);
CREATE UNIQUE INDEX IF NOT EXISTS mls_key_packages_one_last_resort ON mls_key_packages(device_id) WHERE last_resort = 1;

CREATE TABLE IF NOT EXISTS mls_groups (
  conv_id TEXT PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
  -- The epoch the next commit must be built on.
  epoch INTEGER NOT NULL,
  head_seq INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS mls_commits (
  conv_id TEXT NOT NULL REFERENCES mls_groups(conv_id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  -- The epoch the commit was built on; UNIQUE is the fork guard: one commit per epoch.
  epoch INTEGER NOT NULL,
  -- No foreign key: a revoked device's commits stay in the log.
  sender_device TEXT NOT NULL,
  data BLOB NOT NULL,
  ts INTEGER NOT NULL,
  PRIMARY KEY (conv_id, seq),
  UNIQUE (conv_id, epoch)
);

CREATE TABLE IF NOT EXISTS mls_welcomes (
  id TEXT PRIMARY KEY,
  conv_id TEXT NOT NULL REFERENCES mls_groups(conv_id) ON DELETE CASCADE,
  epoch INTEGER NOT NULL,
  data BLOB NOT NULL,
  -- Server receive time, ms; also what expiry sweeps on.
  ts INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS mls_welcomes_by_ts ON mls_welcomes(ts);
CREATE TABLE IF NOT EXISTS mls_welcome_recipients (
  device_id TEXT NOT NULL REFERENCES mls_devices(id) ON DELETE CASCADE,
  welcome_id TEXT NOT NULL REFERENCES mls_welcomes(id) ON DELETE CASCADE,
  PRIMARY KEY (device_id, welcome_id)
);
CREATE INDEX IF NOT EXISTS mls_welcome_recipients_by_welcome ON mls_welcome_recipients(welcome_id);
-- A Welcome nobody waits for any more (picked up, or its devices revoked) is deleted.
CREATE TRIGGER IF NOT EXISTS mls_welcome_delivered AFTER DELETE ON mls_welcome_recipients
WHEN NOT EXISTS (SELECT 1 FROM mls_welcome_recipients WHERE welcome_id = OLD.welcome_id)
BEGIN
  DELETE FROM mls_welcomes WHERE id = OLD.welcome_id;
END;

CREATE TABLE IF NOT EXISTS mls_pending_removals (
  conv_id TEXT NOT NULL REFERENCES mls_groups(conv_id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  -- '' removes every leaf of the user; a device id removes that device's leaf only.
  device_id TEXT NOT NULL,
  reason TEXT NOT NULL CHECK (reason IN ('left', 'kicked', 'banned', 'device-revoked')),
  created_at INTEGER NOT NULL,
  -- Seq of the accepted commit whose poster claimed to carry the removal out; NULL until then.
  -- Kept (not deleted) so clients can check the claim against the roster after that commit.
  resolved_seq INTEGER,
  PRIMARY KEY (conv_id, user_id, device_id)
);

CREATE TABLE IF NOT EXISTS mls_backups (
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('account-key', 'archive')),
  version INTEGER NOT NULL,
  -- NULL: deleted. The row stays as a tombstone so the version never goes back.
  data BLOB,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, kind)
);
`;
