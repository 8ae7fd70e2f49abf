/** Applies the numbered migrations, tracked by PRAGMA user_version, and refuses a newer database. */
import type Database from 'better-sqlite3';
import { ChatroomError } from '../../shared/errors.ts';
import { latestVersion, migrations } from './migrations/index.ts';

/** Brings the database to the latest schema; throws SCHEMA_TOO_NEW when it is ahead of this code. */
export function migrateDatabase(db: Database.Database): void {
  // IMMEDIATE takes the write lock first, so the CLI and the server cannot migrate at the same time.
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > latestVersion) {
      throw new ChatroomError(
        'SCHEMA_TOO_NEW',
        `The database has schema version ${current}, but this chatroom knows only up to version ${latestVersion}: upgrade chatroom.`,
        { databaseVersion: current, supportedVersion: latestVersion },
      );
    }
    for (const m of migrations) {
      if (m.version <= current) continue;
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }
  }).immediate();
}
