/** Prepared statements, one per SQL text, for a connection. */
import type Database from 'better-sqlite3';

/** A statement lookup bound to `db`: the first call with a SQL text prepares it, later calls reuse it. */
export type StatementCache = <R = unknown>(sql: string) => Database.Statement<unknown[], R>;

export function statementCache(db: Database.Database): StatementCache {
  const statements = new Map<string, Database.Statement>();
  return <R = unknown>(sql: string) => {
    let s = statements.get(sql);
    if (!s) {
      s = db.prepare(sql);
      statements.set(sql, s);
    }
    return s as Database.Statement<unknown[], R>;
  };
}
