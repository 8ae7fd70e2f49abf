// The no-log promise: a client from a distinctive address and user agent signs up and chats with a
// real `chatroom start`; neither the address, the user agent, the password nor the username ever
// reaches the data dir (database, -wal, any file), stdout or stderr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { deriveLoginKey, newSalt } from '../../web-client/src/auth/kdf.ts';
import { toBase64 } from '../../src/shared/base64.ts';
import { filePaths } from '../helpers/files.ts';

const CLIENT_ADDRESS = '127.0.0.77';
const USER_AGENT = 'CanaryAgent/7.7 (privacy-test-ua-5be1)';
const USERNAME = 'canaryuser4d2';
const PASSWORD = 'canary-password-9f31c2';
const BIN = new URL('../../bin/chatroom.js', import.meta.url).pathname;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** HTTPS request from CLIENT_ADDRESS with the canary user agent; the cert is self-signed. */
function call(port: number, method: string, path: string, body?: unknown, cookie?: string) {
  return new Promise<{ status: number; json: any; setCookie: string[] }>((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        localAddress: CLIENT_ADDRESS,
        rejectUnauthorized: false,
        headers: {
          'user-agent': USER_AGENT,
          origin: `https://127.0.0.1:${port}`,
          ...(data ? { 'content-type': 'application/json', 'content-length': data.length } : {}),
          ...(cookie ? { cookie } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: any = null;
          try { json = text ? JSON.parse(text) : null; } catch { json = text; }
          const sc = res.headers['set-cookie'] ?? [];
          resolve({ status: res.statusCode ?? 0, json, setCookie: Array.isArray(sc) ? sc : [sc] });
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}


function waitFor(child: ChildProcess, output: () => string, re: RegExp, ms = 20_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}; output:\n${output()}`)), ms);
    const check = () => {
      const m = output().match(re);
      if (m) { clearTimeout(timer); child.stdout?.off('data', check); resolve(m); }
    };
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited ${code}:\n${output()}`)); });
    check();
  });
}

test('no IP address, user agent, password or username reaches disk, stdout or stderr', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'chatroom-privacy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const init = spawnSync(process.execPath, [BIN, 'init', '--yes', '--dir', dir, '--port', String(port), '--host', '127.0.0.1', '--tls', 'self-signed', '--no-upnp', '--name', 'Privacy test'], { encoding: 'utf8' });
  assert.equal(init.status, 0, init.stderr);
  const setup = init.stdout.match(/Admin setup link: (\S+)/);
  assert.ok(setup, `no setup link in:\n${init.stdout}`);
  const setupToken = new URL(setup[1]).pathname.split('/').pop()!;

  let out = '';
  const child = spawn(process.execPath, [BIN, 'start', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (out += c));
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  await waitFor(child, () => out, /Press Ctrl\+C to stop/);

  const salt = newSalt();
  const loginKey = toBase64(await deriveLoginKey(PASSWORD, salt, 600_000));
  const reg = await call(port, 'POST', '/api/auth/register', { username: USERNAME, salt: toBase64(salt), iterations: 600_000, loginKey, invite: setupToken });
  assert.equal(reg.status, 201, JSON.stringify(reg.json));
  // A wrong password and a malformed request too: error paths must not log either.
  const bad = await call(port, 'POST', '/api/auth/login', { username: USERNAME, loginKey: toBase64(new Uint8Array(32)) });
  assert.equal(bad.status, 401);
  const junk = await call(port, 'POST', '/api/auth/login', { username: USERNAME, extra: USER_AGENT });
  assert.equal(junk.status, 400);
  const login = await call(port, 'POST', '/api/auth/login', { username: USERNAME, loginKey });
  assert.equal(login.status, 200);
  const cookie = login.setCookie.map((c) => c.split(';')[0]).join('; ');

  const list = await call(port, 'GET', '/api/conversations', undefined, cookie);
  assert.equal(list.status, 200);
  const general = list.json.servers[0].channels.find((c: any) => c.name === 'general');
  assert.ok(general, 'general channel exists');

  const ws = new WebSocket(`wss://127.0.0.1:${port}/ws`, { localAddress: CLIENT_ADDRESS, rejectUnauthorized: false, headers: { cookie, 'user-agent': USER_AGENT }, origin: `https://127.0.0.1:${port}` });
  const frames: any[] = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (d) => { frames.push(JSON.parse(String(d))); waiters.splice(0).forEach((w) => w()); });
  const next = (pred: (f: any) => boolean) =>
    new Promise<any>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no frame')), 10_000);
      const look = () => {
        const f = frames.find(pred);
        if (f) { clearTimeout(timer); resolve(f); } else waiters.push(look);
      };
      look();
    });
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  ws.send(JSON.stringify({ t: 'sub', conv: general.id, since: 0 }));
  await next((f) => f.t === 'subscribed');
  ws.send('not json at all ' + USER_AGENT);
  await next((f) => f.t === 'error' && f.code === 'BAD_FRAME');
  const body = toBase64(new TextEncoder().encode(JSON.stringify({ type: 'text', text: 'hello from the canary' })));
  ws.send(JSON.stringify({ t: 'send', ref: 'r1', conv: general.id, body }));
  await next((f) => f.t === 'ack' && f.ref === 'r1');
  ws.close();

  const canaries = [CLIENT_ADDRESS, USER_AGENT, 'CanaryAgent', PASSWORD];
  const scanDataDir = (when: string) => {
    for (const file of filePaths(dir)) {
      const bytes = readFileSync(file);
      for (const c of canaries) {
        assert.equal(bytes.includes(Buffer.from(c, 'utf8')), false, `${c} found in ${file} (${when})`);
        assert.equal(bytes.includes(Buffer.from(c, 'utf16le')), false, `${c} (UTF-16) found in ${file} (${when})`);
      }
    }
  };
  // While running, the -wal file still holds the latest pages.
  assert.ok(filePaths(dir).some((f) => f.endsWith('-wal')), 'the database runs in WAL mode');
  scanDataDir('while running');

  child.kill('SIGTERM');
  const code = await new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', r)));
  assert.equal(code, 0, out);

  scanDataDir('after shutdown');
  for (const c of [...canaries, USERNAME, 'hello from the canary', loginKey]) {
    assert.equal(out.includes(c), false, `${c} found in the server's output`);
  }
});
