/**
 * Test fixtures made directly through the store (users, sessions, conversations), and a small
 * `ws` client with a frame queue so tests await frames instead of sleeping.
 */
import WebSocket from 'ws';
import type { TestServer } from './server.ts';
import type { User, InstanceRole } from '../../src/store/types.ts';
import { hashToken, newToken, SESSION_COOKIE } from '../../src/server/auth/tokens.ts';
import type { ServerFrame, ClientFrame } from '../../src/shared/protocol.ts';

export interface Session {
  token: string;
  sessionHash: string;
  /** The Cookie header value. */
  cookie: string;
}

export interface DirectUser extends Session {
  user: User;
}

/** A session for the user, straight into the store (30 days). */
export async function createSession(server: TestServer, userId: string): Promise<Session> {
  const token = newToken();
  const sessionHash = hashToken(token);
  const now = Date.now();
  await server.store.createSession({ tokenHash: sessionHash, userId, createdAt: now, expiresAt: now + 30 * 86_400_000 });
  return { token, sessionHash, cookie: `${SESSION_COOKIE}=${token}` };
}

/** A user with a dummy verifier (nobody signs in with a password here) and one session. */
export async function createUser(server: TestServer, username: string, role: InstanceRole = 'member'): Promise<DirectUser> {
  const user = await server.store.createUser({ username, role, salt: new Uint8Array(16), iterations: 600_000, verifier: 'dummy-verifier' });
  return { user, ...(await createSession(server, user.id)) };
}

let usernameCounter = 0;
/** A fresh unique username with this prefix. */
export function uniqueName(prefix = 'user'): string {
  return `${prefix}${++usernameCounter}`;
}

export interface Closed {
  code: number;
  reason: string;
}

type Predicate = (frame: ServerFrame) => boolean;

/** A WebSocket client that queues every server frame until a test takes it with `next`. */
export class WsClient {
  readonly ws: WebSocket;
  /** Frames received and not yet taken by `next`, oldest first. */
  readonly queue: ServerFrame[] = [];
  /** Every frame ever received, oldest first. */
  readonly all: ServerFrame[] = [];
  readonly closed: Promise<Closed>;
  private waiters: Array<{ predicate: Predicate; resolve: (f: ServerFrame) => void; reject: (e: Error) => void }> = [];
  private closedWith: Closed | null = null;

  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data, isBinary) => {
      if (isBinary) throw new Error('the server sent a binary frame');
      const frame = JSON.parse(String(data)) as ServerFrame;
      this.all.push(frame);
      const i = this.waiters.findIndex((w) => w.predicate(frame));
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(frame);
      else this.queue.push(frame);
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        this.closedWith = { code, reason: String(reason) };
        // Nothing more can arrive: fail the waiters now rather than at their timeouts.
        for (const w of this.waiters.splice(0)) w.reject(new Error(`the socket closed (${code} ${String(reason)}) before a matching frame`));
        resolve(this.closedWith);
      }),
    );
  }

  /** Sends a protocol frame as JSON. */
  send(frame: ClientFrame | Record<string, unknown>): void {
    this.ws.send(JSON.stringify(frame));
  }

  /** Takes the oldest queued frame matching `predicate`, or waits for one. */
  next(predicate: Predicate = () => true, timeoutMs = 5000): Promise<ServerFrame> {
    const i = this.queue.findIndex(predicate);
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0]);
    if (this.closedWith) return Promise.reject(new Error(`the socket is closed (${this.closedWith.code})`));
    return new Promise((resolve, reject) => {
      const waiter = {
        predicate,
        resolve: (f: ServerFrame) => {
          clearTimeout(timer);
          resolve(f);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const recent = this.queue.slice(-5).map((f) => JSON.stringify(f).slice(0, 200));
        reject(new Error(`no matching frame within ${timeoutMs} ms; last queued: ${recent.join(' ')}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Takes the next frame of type `t` (optionally also matching `where`). */
  nextOf<T extends ServerFrame['t']>(t: T, where: (f: Extract<ServerFrame, { t: T }>) => boolean = () => true, timeoutMs = 5000): Promise<Extract<ServerFrame, { t: T }>> {
    return this.next((f) => f.t === t && where(f as Extract<ServerFrame, { t: T }>), timeoutMs) as Promise<Extract<ServerFrame, { t: T }>>;
  }

  /** Sends `sub` and resolves with every replayed msg and the final `subscribed` (or an error). */
  async subscribe(conv: string, since?: number, timeoutMs = 5000): Promise<{ messages: Extract<ServerFrame, { t: 'msg' }>[]; head: number }> {
    this.send(since === undefined ? { t: 'sub', conv } : { t: 'sub', conv, since });
    const done = await this.next((f) => (f.t === 'subscribed' || f.t === 'error') && f.conv === conv, timeoutMs);
    if (done.t === 'error') throw new Error(`sub failed: ${done.code}`);
    const messages: Extract<ServerFrame, { t: 'msg' }>[] = [];
    for (let i = 0; i < this.queue.length; ) {
      const f = this.queue[i];
      if (f.t === 'msg' && f.conv === conv) {
        messages.push(f);
        this.queue.splice(i, 1);
      } else i++;
    }
    return { messages, head: (done as Extract<ServerFrame, { t: 'subscribed' }>).head };
  }

  close(): Promise<Closed> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
    return this.closed;
  }
}

export interface ConnectOptions {
  /** The Origin header; defaults to the server's own origin. Pass null to send none. */
  origin?: string | null;
}

function clientOptions(server: TestServer, cookie: string | null, opts: ConnectOptions): WebSocket.ClientOptions {
  const headers: Record<string, string> = {};
  if (cookie) headers.cookie = cookie;
  const origin = opts.origin === undefined ? server.origin : opts.origin;
  const options: WebSocket.ClientOptions = { headers, perMessageDeflate: false };
  if (origin !== null) options.origin = origin;
  return options;
}

/** Opens an authenticated WebSocket; rejects with the HTTP status if the upgrade is refused. */
export function connect(server: TestServer, cookie: string | null, opts: ConnectOptions = {}): Promise<WsClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(server.wsUrl, clientOptions(server, cookie, opts));
    const client = new WsClient(ws);
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (_req, res) => {
      reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode }));
      res.resume();
      ws.terminate();
    });
    ws.on('error', reject);
  });
}

/** Attempts an upgrade that should be refused: resolves with the HTTP status and JSON body. */
export function refusedUpgrade(server: TestServer, cookie: string | null, opts: ConnectOptions = {}): Promise<{ status: number; body: { error?: { code?: string } } }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(server.wsUrl, clientOptions(server, cookie, opts));
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        ws.terminate();
        let body = {};
        try {
          body = JSON.parse(text);
        } catch {
          body = {};
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    ws.on('error', (err) => {
      if (!/Unexpected server response/.test(String(err))) reject(err);
    });
  });
}

/** Base64 of a UTF-8 string (the tests' stand-in for an encrypted body). */
export function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

export interface World {
  /** Owner of the default server, member of the group and the DM. */
  alice: DirectUser;
  /** Member of the default server, the group and the DM. */
  bob: DirectUser;
  /** Member of nothing but the instance. */
  carol: DirectUser;
  serverId: string;
  /** The default server's `general` channel. */
  general: string;
  group: string;
  dm: string;
}

/** Three users, the default server with alice (owner) and bob, a group and a DM of alice and bob. */
export async function createWorld(server: TestServer): Promise<World> {
  const alice = await createUser(server, uniqueName('alice'), 'owner');
  const bob = await createUser(server, uniqueName('bob'));
  const carol = await createUser(server, uniqueName('carol'));
  const { server: home, general } = await server.store.createServer({ name: 'Home', ownerId: alice.user.id, isDefault: true });
  await server.store.addServerMember(home.id, bob.user.id);
  const group = await server.store.createGroup({ name: 'pair', createdBy: alice.user.id, memberIds: [alice.user.id, bob.user.id] });
  const dm = await server.store.getOrCreateDm(alice.user.id, bob.user.id);
  return { alice, bob, carol, serverId: home.id, general: general.id, group: group.id, dm: dm.id };
}

/** A JSON HTTP call with the session cookie (and the server's own Origin). */
export async function api(server: TestServer, cookie: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const headers: Record<string, string> = { cookie, origin: server.origin };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(server.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}
