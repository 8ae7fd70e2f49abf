/** Opens the database file with the durability and privacy pragmas every connection needs. */
import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';

/** Creates the folder (0700 when new) and the file (0600), then opens it with our pragmas. */
export function openDatabase(dataPath: string, file: string): Database.Database {
  mkdirSync(dataPath, { recursive: true, mode: 0o700 });
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  // SQLite gives -wal and -shm the main file's permissions, so this covers them too.
  chmodSync(file, 0o600);
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 5000');
    db.pragma('journal_mode = WAL');
    // FULL: a commit survives power loss, and group commit makes its fsync cheap per message.
    db.pragma('synchronous = FULL');
    db.pragma('secure_delete = ON');
    db.pragma('foreign_keys = ON');
    // Checkpoints run in a worker thread (checkpointer.ts), never on the event loop.
    db.pragma('wal_autocheckpoint = 0');
    // When the WAL restarts, cut the file back to 16 MiB rather than keeping its high-water size.
    db.pragma(`journal_size_limit = ${16 * 1024 * 1024}`);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}
