/**
 * Skip-or-fail for suites that need a Debian package or root: on a laptop without it the suite
 * skips with one line naming what is missing; with CHATROOM_TEST_STRICT=1 (CI) it fails instead.
 */
import { accessSync, constants } from 'node:fs';

/** A Debian package and one executable it installs (absolute path). */
export interface Requirement {
  pkg: string;
  binary: string;
}

/**
 * The reason to skip, or undefined when every requirement (and root, if asked) is there.
 * Use as `test('…', { skip: requirementsSkip([...]) }, …)` or at the top of a suite.
 */
export function requirementsSkip(reqs: Requirement[], opts: { root?: boolean } = {}): string | undefined {
  const missing = reqs.filter((r) => !isExecutable(r.binary)).map((r) => r.pkg);
  const problems: string[] = [];
  if (missing.length) problems.push(`needs the Debian package${missing.length > 1 ? 's' : ''} ${[...new Set(missing)].join(', ')} (apt-get install -y ${[...new Set(missing)].join(' ')})`);
  if (opts.root && process.getuid?.() !== 0) problems.push('needs root (network namespaces)');
  if (!problems.length) return undefined;
  const reason = problems.join('; ');
  if (process.env.CHATROOM_TEST_STRICT === '1') throw new Error(`${reason} (CHATROOM_TEST_STRICT=1)`);
  console.log(`skipping: ${reason}`);
  return reason;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
