/**
 * Helpers for the browser tests with end-to-end encryption: a Node device for an account (the same
 * client code as the browser: DeviceKeys in memory, E2eeCodec on fetch, a socket whose frames go
 * to the codec), unlocking keys in a page, and waiting until a page decoded every message it holds.
 */
import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import type { TestServer } from '../helpers/server.ts';
import { connect, createSession, type WsClient } from '../helpers/direct.ts';
import { transportFor } from '../e2ee/helpers.ts';
import type { ServerFrame } from '../../src/shared/protocol.ts';
import { fromBase64 } from '../../src/shared/base64.ts';
import { DeviceKeys } from '../../web-client/src/e2ee/device-keys.ts';
import { MemoryKeyValueStore } from '../../web-client/src/e2ee/vault.ts';
import { MlsClient } from '../../web-client/src/e2ee/mls-client.ts';
import { openE2eeCodec, type E2eeCodec } from '../../web-client/src/e2ee/groups/index.ts';

export interface NodeDevice {
  userId: string;
  cookie: string;
  codec: E2eeCodec;
  ws: WsClient;
  recoveryKey: string;
  /** Encrypts `text` for `conv` and sends it over the socket; resolves with its seq once acked. */
  send(conv: string, text: string): Promise<number>;
  /** Encrypts `text` for `conv` and stores it straight into the database at `ts` (history with chosen times). */
  append(server: TestServer, conv: string, text: string, ts?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The first device of `userId`'s account, made in Node on a session of its own (a device is bound
 * to one session, so a browser signed in as the same user keeps its own). Creates the account's
 * keys: a browser of this account then unlocks with `recoveryKey`.
 */
export async function nodeDevice(server: TestServer, userId: string): Promise<NodeDevice> {
  return deviceWithNewKeys(server, userId, false);
}

/**
 * The account starts over with a new account key, as after losing every device and the recovery
 * key: the key backup is deleted, `old` is revoked, and a new device certified by the new key
 * takes its place. Its contacts see a changed safety number.
 */
export async function replaceAccountKey(server: TestServer, old: NodeDevice): Promise<NodeDevice> {
  await old.close();
  return deviceWithNewKeys(server, old.userId, true, old.codec.deviceId);
}

async function deviceWithNewKeys(server: TestServer, userId: string, replace: boolean, oldDevice?: string): Promise<NodeDevice> {
  const { cookie } = await createSession(server, userId);
  const kv = new MemoryKeyValueStore();
  const transport = transportFor(server, cookie);
  const keys = new DeviceKeys({ kv, client: new MlsClient(transport) });
  if (replace) {
    const backup = await fetch(`${server.url}/api/mls/backup/account-key`, { headers: { cookie } });
    const deleted = await fetch(`${server.url}/api/mls/backup/account-key`, { method: 'DELETE', headers: { cookie, 'if-match': backup.headers.get('etag') ?? '' } });
    if (!deleted.ok) throw new Error(`deleting the key backup: ${deleted.status}`);
    if (oldDevice) await keys.removeDevice(oldDevice);
  }
  const { recoveryKey } = await keys.create(userId);
  await keys.finishSetup(userId);
  const check = await keys.check(userId);
  if (check.state !== 'ready') throw new Error(`keys not ready: ${check.state}`);
  const codec = await openE2eeCodec({ userId, deviceKeys: keys, transport, reconcileStaggerMs: 20 });
  const ws = await connect(server, cookie);
  ws.ws.on('message', (data) => codec.onFrame(JSON.parse(String(data)) as ServerFrame));
  codec.onConnected();
  let closed = false;
  return {
    userId,
    cookie,
    codec,
    ws,
    recoveryKey,
    async send(conv, text) {
      const body = await codec.encode(conv, { kind: 'text', text });
      const ref = randomUUID();
      ws.send({ t: 'send', ref, conv, body });
      const ack = await ws.next((f) => (f.t === 'ack' || f.t === 'error') && (f as { ref?: string }).ref === ref, 20_000);
      if (ack.t !== 'ack') throw new Error(`send refused: ${JSON.stringify(ack)}`);
      return ack.seq;
    },
    async append(srv, conv, text, ts = Date.now()) {
      const body = await codec.encode(conv, { kind: 'text', text });
      await srv.store.appendMessage({ convId: conv, senderId: userId, ts, body: fromBase64(body) });
    },
    async close() {
      if (closed) return;
      closed = true;
      await codec.idle();
      codec.close();
      await ws.close();
    },
  };
}

/** On the "Unlock your keys on this browser" screen: types the recovery key and waits for the chat. */
export async function unlockWithRecoveryKey(page: Page, recoveryKey: string, timeout = 30_000): Promise<void> {
  await page.getByRole('heading', { name: 'Unlock your keys on this browser' }).waitFor({ timeout });
  await page.getByRole('textbox', { name: 'Recovery key' }).fill(recoveryKey);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await page.getByRole('navigation', { name: 'Conversations' }).waitFor({ timeout });
}

/** Resolves once the page's store has a decoded answer (text or a refusal) for every message of `conv` it holds. */
export async function allDecoded(page: Page, conv: string, timeout = 30_000): Promise<void> {
  await page.waitForFunction(
    (id) => {
      const store = (document.querySelector('chat-app') as unknown as { store: { messagesOf(c: string): Array<{ seq: number }>; decodedOf(c: string, s: number): unknown } }).store;
      return store.messagesOf(id).every((m) => store.decodedOf(id, m.seq) !== undefined);
    },
    conv,
    { timeout },
  );
}
