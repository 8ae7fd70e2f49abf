/**
 * An HTTP client for tests that signs up and signs in the way the web client does: it stretches
 * the password with the real KDF (PBKDF2 600,000 iterations, cached per password and salt) and
 * sends only the derived login key. `api()` calls any route with a session cookie.
 */
import type { TestServer } from './server.ts';
import type { Me, Session } from '../../src/shared/api.ts';
import { deriveLoginKey, newSalt, DEFAULT_ITERATIONS } from '../../web-client/src/auth/kdf.ts';
import { toBase64, fromBase64 } from '../../src/shared/base64.ts';
import { SESSION_COOKIE } from '../../src/server/auth/tokens.ts';
import { ensureSetupLink, createInviteLink } from '../../src/server/invites.ts';

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  /** Parsed JSON, or undefined for an empty or non-JSON body. */
  body: T;
  text: string;
}

export interface SignedIn {
  /** The Cookie header value (`__Host-sid=…`). */
  cookie: string;
  user: Me;
  password: string;
}

/** Every request body the helpers sent, as text, so tests can prove the password never left. */
export const sentBodies: string[] = [];

const keyCache = new Map<string, Promise<Uint8Array>>();

/** deriveLoginKey with a memo: PBKDF2 at 600,000 iterations costs ~0.3 s per call. */
export function cachedLoginKey(password: string, salt: Uint8Array, iterations = DEFAULT_ITERATIONS): Promise<Uint8Array> {
  const id = `${iterations}:${toBase64(salt)}:${password}`;
  let key = keyCache.get(id);
  if (!key) {
    key = deriveLoginKey(password, salt, iterations);
    keyCache.set(id, key);
  }
  return key;
}

/** One request. `body` is sent as JSON unless it is a string (sent as-is with `contentType`). */
export async function api<T = any>(
  server: Pick<TestServer, 'url'>,
  cookie: string | null,
  method: string,
  path: string,
  body?: unknown,
  opts: { contentType?: string; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (cookie) headers.cookie = cookie;
  let payload: string | undefined;
  if (body !== undefined) {
    payload = typeof body === 'string' ? body : JSON.stringify(body);
    headers['content-type'] = opts.contentType ?? 'application/json';
    sentBodies.push(payload);
  }
  const res = await fetch(server.url + path, { method, headers, body: payload });
  const text = await res.text();
  let parsed: any;
  if (text && (res.headers.get('content-type') ?? '').includes('application/json')) parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

/** The `__Host-sid=…` pair from a Set-Cookie header, or null. */
export function sessionCookieOf(res: ApiResponse): string | null {
  for (const line of res.headers.getSetCookie()) {
    const pair = line.split(';')[0];
    if (pair.startsWith(`${SESSION_COOKIE}=`) && pair.length > SESSION_COOKIE.length + 1) return pair;
  }
  return null;
}

/** Register answers 201 Created, login 200; both set the cookie and return the Session. */
function expectSession(res: ApiResponse<Session>, status: 200 | 201, what: string, password: string): SignedIn {
  const cookie = sessionCookieOf(res);
  if (res.status !== status || !cookie) throw new Error(`${what} failed: ${res.status} ${res.text}`);
  return { cookie, user: res.body.user, password };
}

/** POST /api/auth/register as the web client would; returns the raw response. */
export async function registerRaw(
  server: Pick<TestServer, 'url'>,
  username: string,
  password: string,
  invite?: string,
  opts: { cookie?: string | null } = {},
): Promise<ApiResponse> {
  const salt = newSalt();
  const loginKey = await cachedLoginKey(password, salt);
  const body: Record<string, unknown> = { username, salt: toBase64(salt), iterations: DEFAULT_ITERATIONS, loginKey: toBase64(loginKey) };
  if (invite !== undefined) body.invite = invite;
  return api<Session>(server, opts.cookie ?? null, 'POST', '/api/auth/register', body);
}

/** Signs up (throws unless it worked) and returns the session. */
export async function register(server: Pick<TestServer, 'url'>, username: string, password: string, invite?: string): Promise<SignedIn> {
  return expectSession(await registerRaw(server, username, password, invite), 201, 'register', password);
}

/** POST /api/auth/params then /api/auth/login; returns the raw login response. */
export async function loginRaw(
  server: Pick<TestServer, 'url'>,
  username: string,
  password: string,
  opts: { cookie?: string | null } = {},
): Promise<ApiResponse> {
  const params = await api<{ salt: string; iterations: number }>(server, null, 'POST', '/api/auth/params', { username });
  if (params.status !== 200) return params;
  const loginKey = await cachedLoginKey(password, fromBase64(params.body.salt), params.body.iterations);
  return api<Session>(server, opts.cookie ?? null, 'POST', '/api/auth/login', { username, loginKey: toBase64(loginKey) });
}

/** Signs in (throws unless it worked). */
export async function login(server: Pick<TestServer, 'url'>, username: string, password: string): Promise<SignedIn> {
  return expectSession(await loginRaw(server, username, password), 200, 'login', password);
}

/** Creates the instance owner through a fresh setup link (the instance must have no account yet). */
export async function setupOwner(server: TestServer, username = 'owner', password = 'correct horse battery staple'): Promise<SignedIn> {
  const link = await ensureSetupLink(server.store, server.url, 1);
  if (!link) throw new Error('the instance already has an owner');
  return register(server, username, password, link.token);
}

/** A new invite token for the instance's default server (or `serverId`), made through the store. */
export async function inviteToken(server: TestServer, opts: { serverId?: string; ttlHours?: number; now?: number } = {}): Promise<string> {
  const link = await createInviteLink(server.store, server.url, { kind: 'invite', ttlHours: opts.ttlHours ?? 1, serverId: opts.serverId, now: opts.now });
  return link.token;
}

/** Signs up a member through a fresh invite. */
export async function registerInvited(server: TestServer, username: string, password = `${username} secret passphrase`): Promise<SignedIn> {
  return register(server, username, password, await inviteToken(server));
}
