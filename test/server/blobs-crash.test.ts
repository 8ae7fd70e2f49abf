// kill -9 during an upload: the real server (startServer in a child process) is SIGKILLed mid-piece; after a restart every stored blob is whole, the temp file is swept, and the upload resumes from 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { resolveConfig, withDefaults } from '../../src/config/defaults.ts';
import { databaseFile, openStore } from '../../src/store/index.ts';
import { b64, connect, createWorld } from '../helpers/direct.ts';
import type { TestServer } from '../helpers/server.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
/** Longest a child may take to print its port, ms (tsx compiles the server on first start). */
const START_TIMEOUT_MS = 60_000;
/** Longest the test waits for the server to have written the first bytes of the cut piece, ms. */
const WRITE_TIMEOUT_MS = 10_000;

/** The config both children use: loopback HTTP on a free port, no router mapping. */
const partial = { host: '127.0.0.1', port: 0, httpPort: 0, upnp: false, tls: { mode: 'off' as const } };

/** Runs the real startServer in a child; resolves with its port once it listens. */
async function startChild(dir: string, t: { after(fn: () => unknown): void }): Promise<{ child: ChildProcess; url: string }> {
  const script = `
    import { startServer } from ${JSON.stringify(join(repo, 'src/server/listen.ts'))};
    import { resolveConfig, withDefaults } from ${JSON.stringify(join(repo, 'src/config/defaults.ts'))};
    const config = resolveConfig(withDefaults(JSON.parse(process.env.BLOB_CRASH_CONFIG)), process.env.BLOB_CRASH_DIR);
    const secrets = { saltKey: ${JSON.stringify(randomBytes(32).toString('base64'))}, addressKey: ${JSON.stringify(randomBytes(32).toString('base64'))} };
    const running = await startServer(config, secrets);
    process.stdout.write(JSON.stringify({ port: running.port }) + '\\n');
    process.on('SIGTERM', () => running.close().then(() => process.exit(0)));
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: repo,
    env: { ...process.env, BLOB_CRASH_DIR: dir, BLOB_CRASH_CONFIG: JSON.stringify(partial) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const lines = createInterface({ input: child.stdout! });
  const timer = setTimeout(() => child.kill('SIGKILL'), START_TIMEOUT_MS);
  try {
    const [line] = (await Promise.race([once(lines, 'line'), once(child, 'exit').then(() => Promise.reject(new Error(`the server exited: ${stderr}`)))])) as [string];
    return { child, url: `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}` };
  } finally {
    clearTimeout(timer);
  }
}

async function call(url: string, cookie: string, method: string, path: string, body?: Uint8Array | string, type?: string) {
  const res = await fetch(url + path, { method, headers: { cookie, ...(type ? { 'content-type': type } : {}) }, body: body as BodyInit | undefined });
  const bytes = Buffer.from(await res.arrayBuffer());
  return { status: res.status, bytes, json: (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(bytes.toString()) : undefined };
}

test('kill -9 mid-upload: after a restart no stored blob is missing or short, temp files are swept, the upload resumes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'chatroom-blob-crash-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dataPath = resolveConfig(withDefaults(partial), dir).dataPath;
  const setup = await openStore({ dataPath });
  const w = await createWorld({ store: setup } as TestServer);
  await setup.close();

  const first = await startChild(dir, t);
  const cookie = w.alice.cookie;
  // A blob stored and sent in a message before the crash.
  const sentBytes = randomBytes(300_000);
  const sent = (await call(first.url, cookie, 'POST', '/api/blobs', JSON.stringify({ conv: w.general, size: sentBytes.length }), 'application/json')).json.id as string;
  assert.equal((await call(first.url, cookie, 'PUT', `/api/blobs/${sent}?offset=0`, sentBytes, 'application/octet-stream')).json.complete, true);
  const ws = await connect({ wsUrl: first.url.replace('http', 'ws') + '/ws', origin: first.url } as TestServer, cookie);
  ws.send({ t: 'send', ref: 'with-photo', conv: w.general, body: b64('photo'), blobIds: [sent] });
  assert.equal((await ws.next((f) => f.t === 'ack' || f.t === 'error')).t, 'ack');
  ws.ws.terminate();

  // A blob half uploaded: one piece done, the next one cut by the kill.
  const halfBytes = randomBytes(1_000_000);
  const half = (await call(first.url, cookie, 'POST', '/api/blobs', JSON.stringify({ conv: w.general, size: halfBytes.length }), 'application/json')).json.id as string;
  assert.equal((await call(first.url, cookie, 'PUT', `/api/blobs/${half}?offset=0`, halfBytes.subarray(0, 400_000), 'application/octet-stream')).json.received, 400_000);
  const cut = request(`${first.url}/api/blobs/${half}?offset=400000`, {
    method: 'PUT',
    headers: { cookie, 'content-type': 'application/octet-stream', 'content-length': String(600_000) },
  });
  cut.on('error', () => {});
  cut.write(halfBytes.subarray(400_000, 600_000));
  const temp = join(dataPath, 'blobs', 'tmp', half);
  const deadline = Date.now() + WRITE_TIMEOUT_MS;
  // Poll the file the server writes (there is no event for another process's write).
  while (!(existsSync(temp) && statSync(temp).size > 400_000)) {
    assert.ok(Date.now() < deadline, 'the server wrote part of the cut piece');
    await new Promise<void>((resolve) => setTimeout(resolve, 10));
  }
  first.child.kill('SIGKILL');
  await once(first.child, 'exit');
  cut.destroy();
  assert.ok(existsSync(temp), 'the killed server left its temp file behind');

  const second = await startChild(dir, t);
  t.after(async () => {
    second.child.kill('SIGTERM');
    if (second.child.exitCode === null) await once(second.child, 'exit');
  });
  assert.deepEqual(readdirSync(join(dataPath, 'blobs', 'tmp')), [], 'the start sweep removed the temp file');
  // Every stored row has its whole file: nothing referenced is missing or short.
  const db = new Database(databaseFile(dataPath), { readonly: true });
  const rows = db.prepare("SELECT id, size FROM blobs WHERE state = 'stored'").all() as Array<{ id: string; size: number }>;
  db.close();
  assert.deepEqual(rows.map((r) => r.id), [sent]);
  for (const r of rows) assert.equal(statSync(join(dataPath, 'blobs', r.id)).size, r.size, `blob ${r.id} is whole`);
  const again = await call(second.url, w.bob.cookie, 'GET', `/api/blobs/${sent}`);
  assert.equal(again.status, 200);
  assert.deepEqual(again.bytes, sentBytes);

  // The cut upload is still there and resumes from 0 with the same ciphertext: no re-encryption.
  assert.deepEqual((await call(second.url, cookie, 'GET', `/api/blobs/${half}/upload`)).json, { id: half, size: halfBytes.length, received: 0, complete: false });
  assert.equal((await call(second.url, cookie, 'PUT', `/api/blobs/${half}?offset=0`, halfBytes, 'application/octet-stream')).json.complete, true);
  assert.deepEqual((await call(second.url, w.bob.cookie, 'GET', `/api/blobs/${half}`)).bytes, halfBytes);
});
