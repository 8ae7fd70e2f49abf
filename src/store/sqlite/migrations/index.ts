/** The numbered migrations, in order; migration N brings the schema to user_version N. */
import { sql as initial } from './001-initial.ts';
import { sql as clientRef } from './002-client-ref.ts';
import { sql as mls } from './003-mls.ts';
import { sql as blobs } from './004-blobs.ts';

export interface Migration {
  version: number;
  sql: string;
}

export const migrations: readonly Migration[] = [
  { version: 1, sql: initial },
  { version: 2, sql: clientRef },
  { version: 3, sql: mls },
  { version: 4, sql: blobs },
];

/** The schema version this code writes. */
export const latestVersion = migrations[migrations.length - 1].version;
