/** Opens the instance's store: SQLite at <dataPath>/chatroom.db, migrated to the latest schema. */
import { join } from 'node:path';
import type { ResolvedConfig } from '../config/schema.ts';
import { openDatabase } from './sqlite/connection.ts';
import { migrateDatabase } from './sqlite/migrate.ts';
import { SqliteStore, type SqliteStoreOptions } from './sqlite/sqlite-store.ts';
import type { Store } from './types.ts';

export type { Store } from './types.ts';

/** The database file inside the data directory. */
export function databaseFile(dataPath: string): string {
  return join(dataPath, 'chatroom.db');
}

/** Opens (creating if needed) and migrates the SQLite store; throws ChatroomError SCHEMA_TOO_NEW for a newer database. */
export async function openStore(config: Pick<ResolvedConfig, 'dataPath'>, opts: SqliteStoreOptions = {}): Promise<Store> {
  return openSqliteStore(config.dataPath, opts);
}

/** Like openStore, typed as the SQLite class (for tests and tools that need stats() or checkpoint()). */
export async function openSqliteStore(dataPath: string, opts: SqliteStoreOptions = {}): Promise<SqliteStore> {
  const file = databaseFile(dataPath);
  const db = openDatabase(dataPath, file);
  try {
    // Migrate before the checkpoint worker opens its own connection, so a refused schema leaves nothing running.
    migrateDatabase(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return new SqliteStore(db, file, opts);
}
