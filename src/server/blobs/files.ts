/**
 * Where attachment bytes live: <dataPath>/blobs/<id> for complete blobs and
 * <dataPath>/blobs/tmp/<id> while uploading. A file reaches its final name only by rename after
 * an fsync, and the directory is fsynced after the rename, so a name in blobs/ always holds the
 * whole, durable ciphertext; the database row is marked stored only after that.
 */
import { mkdirSync } from 'node:fs';
import { open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Blob ids are base64url (src/store/sqlite/ids.ts); anything else in the folder is not ours. */
const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export class BlobFiles {
  readonly dir: string;
  readonly tempDir: string;

  constructor(dataPath: string) {
    this.dir = join(dataPath, 'blobs');
    this.tempDir = join(this.dir, 'tmp');
    // 0700 like the data folder: ciphertext, but still nobody else's business.
    mkdirSync(this.tempDir, { recursive: true, mode: 0o700 });
  }

  finalPath(id: string): string {
    return join(this.dir, id);
  }

  tempPath(id: string): string {
    return join(this.tempDir, id);
  }

  /** Bytes in the upload's temp file (0 when there is none). */
  async received(id: string): Promise<number> {
    try {
      return (await stat(this.tempPath(id))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
  }

  /** Size of a complete blob's file, or null when it has none. */
  async storedSize(id: string): Promise<number | null> {
    try {
      return (await stat(this.finalPath(id))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  /** fsync the temp file, rename it to its final name, fsync the folder. */
  async finalize(id: string): Promise<void> {
    const fh = await open(this.tempPath(id), 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(this.tempPath(id), this.finalPath(id));
    await syncDir(this.dir);
  }

  /** Removes the temp file. */
  async removeTemp(id: string): Promise<void> {
    await rm(this.tempPath(id), { force: true });
  }

  /** Removes both the final and the temp file (either may be missing). */
  async remove(id: string): Promise<void> {
    await rm(this.finalPath(id), { force: true });
    await rm(this.tempPath(id), { force: true });
  }

  /** Ids with a final file. */
  async listStored(): Promise<string[]> {
    return (await readdir(this.dir, { withFileTypes: true })).filter((e) => e.isFile() && ID_PATTERN.test(e.name)).map((e) => e.name);
  }

  /** Names in the temp folder (ids, or debris that is not an id at all). */
  async listTemp(): Promise<string[]> {
    try {
      return (await readdir(this.tempDir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /** Removes a temp-folder entry by name. */
  async removeTempName(name: string): Promise<void> {
    await rm(join(this.tempDir, name), { force: true });
  }

  /** Makes deletions durable too (an unlink is a directory change). */
  async syncDirs(): Promise<void> {
    await syncDir(this.dir);
    await syncDir(this.tempDir);
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export function isBlobId(name: string): boolean {
  return ID_PATTERN.test(name);
}
