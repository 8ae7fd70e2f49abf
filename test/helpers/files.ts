/** Every file under a folder, for tests that search a data dir for what must not be there. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The paths of every file under `dir`, at any depth. */
export function filePaths(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filePaths(p) : [p];
  });
}

/** Every file under `dir` with its bytes. */
export function filesUnder(dir: string): Array<{ path: string; bytes: Buffer }> {
  return filePaths(dir).map((path) => ({ path, bytes: readFileSync(path) }));
}
