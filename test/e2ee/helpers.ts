/**
 * Node clients for the conversation-engine tests: a real account (signed up through the server),
 * its DeviceKeys in a MemoryKeyValueStore, an E2eeCodec on fetch with the session cookie, and a
 * WebSocket whose frames go to the codec like the store forwards them.
 */
import { randomUUID } from 'node:crypto';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { api, login, registerInvited, setupOwner, type SignedIn } from '../helpers/client.ts';
import type { TestContext } from 'node:test';
import { connect, type WsClient } from '../helpers/direct.ts';
import type { ServerFrame } from '../../src/shared/protocol.ts';
import type { StoredMessage } from '../../src/shared/api.ts';
import { DeviceKeys } from '../../web-client/src/e2ee/device-keys.ts';
import { MemoryKeyValueStore } from '../../web-client/src/e2ee/vault.ts';
import { openE2eeCodec, type E2eeCodec, type OpenCodecOptions } from '../../web-client/src/e2ee/groups/index.ts';
import { MlsClient } from '../../web-client/src/e2ee/mls-client.ts';
import type { Transport } from '../../web-client/src/e2ee/mls-client.ts';
import type { DecodedBody } from '../../web-client/src/state/body-codec.ts';
import type { MessageContent } from '../../web-client/src/crypto/index.ts';

/** Sign-up and sign-in limits high enough for a test with many people. */
export function startE2eeServer(): Promise<TestServer> {
  return startTestServer({ limits: { loginsPerMinute: 10_000, registrationsPerHour: 10_000, connectionsPerIp: 500 } });
}

/**
 * Test hooks on every client's HTTP traffic: `beforeCommit` runs before a commit POST leaves
 * (a test holds several there to make them race), and `commitStatuses` records their answers.
 */
export const traffic = {
  beforeCommit: null as null | ((path: string) => Promise<void>),
  commitStatuses: [] as number[],
  /** Same for writes of the epoch-key archive (PUT /api/mls/backup/archive). */
  beforeArchivePut: null as null | ((path: string) => Promise<void>),
  archiveStatuses: [] as number[],
};

export function transportFor(server: TestServer, cookie: string): Transport {
  return async (path, init) => {
    const isCommit = init.method === 'POST' && path.endsWith('/commits');
    const isArchive = init.method === 'PUT' && path === '/api/mls/backup/archive';
    if (isCommit && traffic.beforeCommit) await traffic.beforeCommit(path);
    if (isArchive && traffic.beforeArchivePut) await traffic.beforeArchivePut(path);
    const res = await fetch(server.url + path, { ...init, headers: { ...(init.headers as Record<string, string>), cookie } });
    if (isCommit) traffic.commitStatuses.push(res.status);
    if (isArchive) traffic.archiveStatuses.push(res.status);
    return res;
  };
}

/**
 * A before-hook that holds the first `n` requests until all `n` are waiting, then lets everything
 * through (retries included). After `timeoutMs` it opens anyway, so a test whose race did not
 * happen fails on its assertion instead of hanging.
 */
export function barrier(n: number, timeoutMs = 5000): (path: string) => Promise<void> {
  const waiting: Array<() => void> = [];
  let open = false;
  const release = () => {
    open = true;
    for (const r of waiting.splice(0)) r();
  };
  return () =>
    new Promise<void>((resolve) => {
      if (open) return resolve();
      waiting.push(resolve);
      if (waiting.length >= n) release();
      else setTimeout(release, timeoutMs);
    });
}

export interface Client {
  who: SignedIn;
  kv: MemoryKeyValueStore;
  keys: DeviceKeys;
  codec: E2eeCodec;
  ws?: WsClient;
  recoveryKey?: string;
}

const ENGINE = { reconcileStaggerMs: 20, reconcileEveryMs: 60_000, packageRetryMs: 200 };

/** Engine options a test may set (rotation policy, clock, stagger). */
export type EngineOptions = Partial<Omit<OpenCodecOptions, 'userId' | 'deviceKeys' | 'transport'>>;

/** An account's first device: keys created at sign-up, then the codec (no socket yet). */
export async function firstDevice(server: TestServer, who: SignedIn, engine: EngineOptions = {}): Promise<Client> {
  const kv = new MemoryKeyValueStore();
  const keys = new DeviceKeys({ kv, client: new MlsClient(transportFor(server, who.cookie)) });
  const { recoveryKey } = await keys.create(who.user.id);
  await keys.finishSetup(who.user.id);
  const check = await keys.check(who.user.id);
  if (check.state !== 'ready') throw new Error(`keys not ready: ${check.state}`);
  const codec = await openE2eeCodec({ userId: who.user.id, deviceKeys: keys, transport: transportFor(server, who.cookie), ...ENGINE, ...engine });
  return { who, kv, keys, codec, recoveryKey };
}

/** The codec again on the same browser storage (a page reload), with a fresh session. */
export async function reload(server: TestServer, c: Client, engine: EngineOptions = {}): Promise<Client> {
  c.codec.close();
  await c.ws?.close();
  const who = await login(server, c.who.user.username, c.who.password);
  const keys = new DeviceKeys({ kv: c.kv, client: new MlsClient(transportFor(server, who.cookie)) });
  const check = await keys.check(who.user.id);
  if (check.state !== 'ready') throw new Error(`keys not ready after reload: ${check.state}`);
  const codec = await openE2eeCodec({ userId: who.user.id, deviceKeys: keys, transport: transportFor(server, who.cookie), ...ENGINE, ...engine });
  return { who, kv: c.kv, keys, codec, recoveryKey: c.recoveryKey };
}

/** A new browser for an existing account, restored with the recovery key. */
export async function restoredDevice(server: TestServer, c: Client, recoveryKey: string): Promise<Client> {
  const who = await login(server, c.who.user.username, c.who.password);
  const kv = new MemoryKeyValueStore();
  const keys = new DeviceKeys({ kv, client: new MlsClient(transportFor(server, who.cookie)) });
  await keys.restoreWithRecoveryKey(who.user.id, recoveryKey);
  const codec = await openE2eeCodec({ userId: who.user.id, deviceKeys: keys, transport: transportFor(server, who.cookie), ...ENGINE });
  return { who, kv, keys, codec };
}

/** Opens the client's socket and forwards every frame to its codec, as the store does. */
export async function online(server: TestServer, c: Client): Promise<Client> {
  const ws = await connect(server, c.who.cookie);
  ws.ws.on('message', (data) => c.codec.onFrame(JSON.parse(String(data)) as ServerFrame));
  c.ws = ws;
  c.codec.onConnected();
  return c;
}

/** Encrypts and posts one message over the socket; resolves with its seq once acked. */
export async function send(c: Client, conv: string, content: MessageContent | string): Promise<number> {
  const body = await c.codec.encode(conv, typeof content === 'string' ? { kind: 'text', text: content } : content);
  if (!c.ws) throw new Error('send needs the socket (online())');
  const ref = randomUUID();
  c.ws.send({ t: 'send', ref, conv, body });
  const ack = await c.ws.next((f) => (f.t === 'ack' || f.t === 'error') && (f as { ref?: string }).ref === ref, 10_000);
  if (ack.t !== 'ack') throw new Error(`send refused: ${JSON.stringify(ack)}`);
  return ack.seq;
}

/** The conversation's stored messages (newest 100), as the server has them. */
export async function stored(server: TestServer, c: Client, conv: string): Promise<StoredMessage[]> {
  const res = await api(server, c.who.cookie, 'GET', `/api/conversations/${conv}/messages?limit=100`);
  if (res.status !== 200) throw new Error(`history: ${res.status} ${res.text}`);
  return res.body.messages;
}

/** Decodes every stored message of `conv` through the client's codec. */
export async function read(server: TestServer, c: Client, conv: string, messages?: StoredMessage[]): Promise<DecodedBody[]> {
  const list = messages ?? (await stored(server, c, conv));
  const out: DecodedBody[] = [];
  for (const m of list) out.push(await c.codec.decode(conv, m));
  return out;
}

/** The texts of the decoded messages (refusals as `!<code>`). */
export function texts(decoded: DecodedBody[]): string[] {
  return decoded.map((d) => (d.ok ? (d.content.kind === 'text' ? d.content.text : `[${d.content.kind}]`) : `!${d.code}`));
}

/** Waits for every client's engine to settle (Welcomes joined, commits applied, archive written). */
export async function settle(...clients: Client[]): Promise<void> {
  for (let round = 0; round < 3; round++) await Promise.all(clients.map((c) => c.codec.idle()));
}

export async function closeAll(...clients: Client[]): Promise<void> {
  for (const c of clients) {
    c.codec.close();
    await c.ws?.close();
  }
}

/** The owner alice and the invited bob and carol, each on a first device and online; closed after the test. */
export async function aliceBobCarol(t: TestContext, server: TestServer): Promise<[Client, Client, Client]> {
  const alice = await online(server, await firstDevice(server, await setupOwner(server, 'alice')));
  const bob = await online(server, await firstDevice(server, await registerInvited(server, 'bob')));
  const carol = await online(server, await firstDevice(server, await registerInvited(server, 'carol')));
  t.after(() => closeAll(alice, bob, carol));
  return [alice, bob, carol];
}
