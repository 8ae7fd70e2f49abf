/** Where the package's own files are, whether running from src/ (tsx) or dist/ (built). */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('chatroom: cannot find the package root');
    dir = up;
  }
  return dir;
}

export const packageRoot = findRoot();
/** The built web client (esbuild output). */
export const webRoot = join(packageRoot, 'dist', 'web');
export const templatesRoot = join(packageRoot, 'templates');
