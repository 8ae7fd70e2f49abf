// SQLite store on disk: the Store contract, migrations, reopen, group commit, real deletes, crash durability.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore, openStore } from '../../src/store/index.ts';
import { runStoreContract } from './contract.ts';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'chatroom-store-'));
}

runStoreContract('sqlite', async () => {
  const dir = tempDir();
  const store = await openStore({ dataPath: join(dir, 'data') });
  await store.migrate();
  return {
    store,
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
