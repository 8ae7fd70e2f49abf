/** Helpers for the MLS delivery-service tests: a server with an optional adversary, users, devices, bytes. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { withDefaults, resolveConfig } from '../../src/config/defaults.ts';
import { openStore } from '../../src/store/index.ts';
import { buildApp } from '../../src/server/app.ts';
import type { Secrets } from '../../src/config/schema.ts';
import type { MlsAdversary } from '../../src/server/mls/adversary.ts';
import type { TestServer } from '../helpers/server.ts';
import { api, registerInvited, setupOwner, type SignedIn } from '../helpers/client.ts';

/** Auth limits high enough for a test that signs several people up. */
const LIMITS = { loginsPerMinute: 1000, registrationsPerHour: 1000 };

/**
 * Like startTestServer (real SQLite on disk, HTTP on 127.0.0.1:0), but the app gets
 * AppDeps.mlsAdversary, which only a test can pass, and optionally a clock (`now`, ms).
 */
export async function startMlsServer(opts: { adversary?: MlsAdversary; now?: () => number } = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'chatroom-mls-'));
  const config = resolveConfig(withDefaults({ host: '127.0.0.1', port: 0, httpPort: 0, upnp: false, tls: { mode: 'off' }, limits: LIMITS }), dir);
  const secrets: Secrets = { saltKey: randomBytes(32).toString('base64'), addressKey: randomBytes(32).toString('base64') };
  const store = await openStore(config);
  const app = await buildApp(config, { store, secrets, mlsAdversary: opts.adversary, ...(opts.now ? { now: opts.now } : {}) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  if (!addr || typeof addr === 'string') throw new Error('no address');
  const url = `http://127.0.0.1:${addr.port}`;
  app.deps.baseUrl = url;
  return {
    url,
    wsUrl: `ws://127.0.0.1:${addr.port}/ws`,
    origin: url,
    app,
    store,
    dir,
    async close() {
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The owner plus invited users with these names, in that order. */
export async function people(s: TestServer, ...names: string[]): Promise<SignedIn[]> {
  const owner = await setupOwner(s);
  const others = await Promise.all(names.map((n) => registerInvited(s, n)));
  return [owner, ...others];
}

/** base64url of bytes (or of a string's UTF-8). */
export function b64u(data: Uint8Array | string): string {
  return Buffer.from(typeof data === 'string' ? new TextEncoder().encode(data) : data).toString('base64url');
}

export function bytesOf(b64url: string): string {
  return Buffer.from(b64url, 'base64url').toString('utf8');
}

export interface TestDevice {
  id: string;
  rebindSecret: string;
}

/** Anyone with a session cookie: a signed-in test client or a user made straight in the store. */
export type Caller = Pick<SignedIn, 'cookie' | 'user'>;

/** Registers the session's device with a recognisable fake certificate. */
export async function registerDevice(s: TestServer, who: Caller, label = 'laptop'): Promise<TestDevice> {
  const res = await api(s, who.cookie, 'POST', '/api/mls/devices', { certificate: b64u(`cert:${who.user.username}:${label}`), label });
  if (res.status !== 201) throw new Error(`device registration failed: ${res.status} ${res.text}`);
  return { id: res.body.device.id, rebindSecret: res.body.rebindSecret };
}

/** Uploads one-time KeyPackages named `<prefix>-<i>` and a last-resort one `<prefix>-last`. */
export async function uploadPackages(s: TestServer, who: Caller, prefix: string, n: number, lastResort = true): Promise<void> {
  const body: Record<string, unknown> = { keyPackages: Array.from({ length: n }, (_, i) => b64u(`${prefix}-${i}`)) };
  if (lastResort) body.lastResort = b64u(`${prefix}-last`);
  const res = await api(s, who.cookie, 'POST', '/api/mls/key-packages', body);
  if (res.status !== 200) throw new Error(`upload failed: ${res.status} ${res.text}`);
}

/** An RFC 9420 §2.1.2 vector length prefix (1 or 2 bytes is all these tests need). */
function vectorLength(n: number): number[] {
  if (n < 0x40) return [n];
  if (n < 0x4000) return [0x40 | (n >> 8), n & 0xff];
  return [0x80 | (n >>> 24), (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

/**
 * A fake commit the server's framing check accepts (base64url): the cleartext header of an
 * MLSMessage PrivateMessage (mls10, group id = the conversation id's UTF-8, the epoch, content
 * type commit) with `tag` as its authenticated_data and empty sender data and ciphertext.
 * `tagOf` reads the tag back.
 */
export function fakeCommit(conv: string, epoch: number, tag: string): string {
  return b64u(fakeCommitBytes(conv, epoch, tag));
}

export function fakeCommitBytes(conv: string, epoch: number, tag: string): Uint8Array {
  const group = Buffer.from(conv, 'utf8');
  const data = Buffer.from(tag, 'utf8');
  const epochBytes = Buffer.alloc(8);
  epochBytes.writeBigUInt64BE(BigInt(epoch));
  return new Uint8Array(
    Buffer.concat([
      Buffer.from([0, 1, 0, 2]),
      Buffer.from(vectorLength(group.length)),
      group,
      epochBytes,
      Buffer.from([3]),
      Buffer.from(vectorLength(data.length)),
      data,
      Buffer.from([0, 0]),
    ]),
  );
}

/** The tag of a fakeCommit (base64url, or the stored bytes). */
export function tagOf(commit: string | Uint8Array): string {
  const b = typeof commit === 'string' ? Buffer.from(commit, 'base64url') : Buffer.from(commit);
  let at = 4;
  const len = (): number => {
    const first = b[at++];
    if (first >> 6 === 0) return first;
    if (first >> 6 === 1) return ((first & 0x3f) << 8) | b[at++];
    const v = (first & 0x3f) * 0x1000000 + b[at] * 0x10000 + b[at + 1] * 0x100 + b[at + 2];
    at += 3;
    return v;
  };
  const groupLength = len();
  at += groupLength + 8 + 1; // group id, epoch, content type
  const n = len();
  return b.subarray(at, at + n).toString('utf8');
}
