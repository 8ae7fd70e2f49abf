/**
 * Sign-up and sign-in: the password is stretched here (PBKDF2 via kdf.ts) and only the derived
 * login key goes to the server.
 */
import type { Session } from '../../../src/shared/api.ts';
import { fromBase64, toBase64 } from '../../../src/shared/base64.ts';
import { DEFAULT_ITERATIONS, deriveLoginKey, newSalt } from '../auth/kdf.ts';
import { api } from './api.ts';

/** Usernames the server accepts (src/shared/api.ts Username). */
export const USERNAME_PATTERN = '^[A-Za-z0-9._\\-]{3,32}$';

/**
 * Shortest password accepted at sign-up, in characters (code points). The server only ever sees
 * the derived key, so it cannot check this: the client is the one place it is enforced.
 */
export const PASSWORD_MIN_LENGTH = 8;

/** Why `password` is not acceptable for a new account, or null when it is. */
export function passwordProblem(password: string): string | null {
  if (password.length === 0) return 'Choose a password.';
  if ([...password].length < PASSWORD_MIN_LENGTH) return `Passwords need at least ${PASSWORD_MIN_LENGTH} characters.`;
  return null;
}

/** Creates an account; `invite` is the token from a setup or invite link. */
export async function register(username: string, password: string, invite?: string): Promise<Session> {
  const problem = passwordProblem(password);
  if (problem) throw new Error(problem);
  const salt = newSalt();
  const loginKey = await deriveLoginKey(password, salt, DEFAULT_ITERATIONS);
  return api.register({
    username,
    salt: toBase64(salt),
    iterations: DEFAULT_ITERATIONS,
    loginKey: toBase64(loginKey),
    ...(invite ? { invite } : {}),
  });
}

export async function signIn(username: string, password: string): Promise<Session> {
  const params = await api.authParams(username);
  const loginKey = await deriveLoginKey(password, fromBase64(params.salt), params.iterations);
  return api.login(username, toBase64(loginKey));
}
