/** `<dir>/secrets.json` (mode 0600): server-side keys that never appear in chatroom.yaml. */
import { chmodSync, existsSync, openSync, readFileSync, statSync, writeSync, closeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ChatroomError } from '../shared/errors.ts';
import type { Secrets } from './schema.ts';

export const SECRETS_FILE = 'secrets.json';

export function secretsPath(dir: string): string {
  return join(resolve(dir), SECRETS_FILE);
}

/** Fresh random keys (32 bytes each, base64). */
export function generateSecrets(): Secrets {
  return { saltKey: randomBytes(32).toString('base64'), addressKey: randomBytes(32).toString('base64') };
}

/**
 * Reads secrets.json, creating it (0600) when missing and tightening its mode when it is readable
 * by others. Throws CONFIG_INVALID when it exists but is not what we wrote.
 */
export function loadOrCreateSecrets(dir: string): { secrets: Secrets; created: boolean } {
  const file = secretsPath(dir);
  if (!existsSync(file)) {
    const secrets = generateSecrets();
    // 'wx': never overwrite a file another process created a moment ago.
    const fd = openSync(file, 'wx', 0o600);
    try {
      writeSync(fd, JSON.stringify(secrets, null, 2) + '\n');
    } finally {
      closeSync(fd);
    }
    return { secrets, created: true };
  }
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    parsed = null;
  }
  const ok = (v: unknown) => typeof v === 'string' && Buffer.from(v, 'base64').length === 32;
  const s = parsed as Partial<Secrets> | null;
  if (!s || !ok(s.saltKey) || !ok(s.addressKey)) {
    throw new ChatroomError(
      'CONFIG_INVALID',
      `${file} is damaged (it needs "saltKey" and "addressKey", 32 random bytes each in base64). Delete it and chatroom makes new ones.`,
      { key: 'secrets', source: file },
    );
  }
  return { secrets: { saltKey: s.saltKey!, addressKey: s.addressKey! }, created: false };
}
