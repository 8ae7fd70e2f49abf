// Security headers on every kind of response (HTML, static, API, blobs, errors, 404s, healthz, WebSocket refusals, the HTTP port's redirects and ACME 404s); HSTS only with a CA-style certificate (not self-signed, not plain HTTP); the client shell.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp, type BuildAppOptions } from '../../src/server/app.ts';
import { resolveConfig, withDefaults } from '../../src/config/defaults.ts';
import { openStore } from '../../src/store/index.ts';
import { startServer } from '../../src/server/listen.ts';
import { startTestServer } from '../helpers/server.ts';
import { createWorld } from '../helpers/direct.ts';
import { freePort } from '../cli/helpers.ts';

const EXPECTED: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'x-frame-options': 'DENY',
};

interface Raw {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request over HTTP or HTTPS (self-signed accepted: this is a header test), including upgrades. */
function send(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Raw> {
  const url = new URL(path, base);
  const make = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = make(url, { method, headers, rejectUnauthorized: false, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      reject(new Error('unexpected upgrade'));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A server like startTestServer's, but with a chosen web root and optional TLS (files mode unless `mode` says otherwise). */
async function start(t: { after(fn: () => Promise<void>): void }, opts: BuildAppOptions = {}, mode: 'files' | 'self-signed' = 'files'): Promise<{ url: string; app: FastifyInstance }> {
  const dir = mkdtempSync(join(tmpdir(), 'chatroom-headers-'));
  const config = resolveConfig(withDefaults({ host: '127.0.0.1', port: 0, httpPort: 0, upnp: false, tls: { mode: opts.https ? mode : 'off' } }), dir);
  const store = await openStore(config);
  await store.migrate();
  const secrets = { saltKey: randomBytes(32).toString('base64'), addressKey: randomBytes(32).toString('base64') };
  const app = await buildApp(config, { store, secrets }, opts);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  if (!addr || typeof addr === 'string') throw new Error('no address');
  t.after(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { url: `${opts.https ? 'https' : 'http'}://127.0.0.1:${addr.port}`, app };
}

function webRootWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'chatroom-web-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

function selfSignedCert(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'chatroom-cert-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every kind of response the server gives. */
const CASES: Array<{ what: string; method: string; path: string; status: number; headers?: Record<string, string>; body?: string }> = [
  { what: 'app shell', method: 'GET', path: '/', status: 200 },
  { what: 'SPA route', method: 'GET', path: '/invite/abc', status: 200 },
  { what: 'static file', method: 'GET', path: '/app.js', status: 200 },
  { what: 'HEAD', method: 'HEAD', path: '/', status: 200 },
  { what: 'missing file', method: 'GET', path: '/nothing-here.js', status: 404 },
  { what: 'healthz', method: 'GET', path: '/healthz', status: 200 },
  { what: 'public API', method: 'GET', path: '/api/instance', status: 200 },
  { what: 'API 401', method: 'GET', path: '/api/me', status: 401 },
  { what: 'API 404', method: 'GET', path: '/api/no-such-route', status: 404 },
  { what: 'API 400', method: 'POST', path: '/api/auth/params', status: 400, headers: { 'content-type': 'application/json' }, body: '{"username":' },
  { what: 'API 413', method: 'POST', path: '/api/auth/params', status: 413, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'x'.repeat(70_000) }) },
  { what: 'API 415', method: 'POST', path: '/api/auth/params', status: 415, headers: { 'content-type': 'text/plain' }, body: 'hello' },
  {
    what: 'WebSocket upgrade refused',
    method: 'GET',
    path: '/ws',
    status: 401,
    headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': randomBytes(16).toString('base64') },
  },
  {
    what: 'WebSocket upgrade from a foreign origin',
    method: 'GET',
    path: '/ws',
    status: 403,
    headers: { origin: 'https://evil.example', connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': randomBytes(16).toString('base64') },
  },
  { what: 'blob download signed out', method: 'GET', path: '/api/blobs/AAAAAAAAAAAAAAAAAAAAAA', status: 401 },
  { what: 'unknown method on a route', method: 'DELETE', path: '/api/instance', status: 404 },
];

async function checkAll(base: string, tls: boolean): Promise<void> {
  for (const c of CASES) {
    const res = await send(base, c.method, c.path, { origin: base, ...c.headers }, c.body).catch((err: Error) => {
      throw new Error(`${c.what}: ${err.message}`);
    });
    checkHeaders(res, c.what, tls);
    assert.equal(res.status, c.status, `${c.what}: status`);
    if (c.path.startsWith('/api/')) assert.equal(res.headers['cache-control'], 'no-store', `${c.what}: cache-control`);
  }
}

/** The full set on one response; `hsts`: Strict-Transport-Security expected; `csp`: a route's own (stricter) policy. */
function checkHeaders(res: Raw, what: string, hsts: boolean, csp = EXPECTED['content-security-policy']): void {
  for (const [name, value] of Object.entries({ ...EXPECTED, 'content-security-policy': csp })) assert.equal(res.headers[name], value, `${what}: ${name}`);
  assert.match(String(res.headers['permissions-policy']), /microphone=\(self\), camera=\(self\), geolocation=\(\)/, `${what}: permissions-policy`);
  if (hsts) assert.equal(res.headers['strict-transport-security'], 'max-age=31536000', `${what}: HSTS`);
  else assert.equal(res.headers['strict-transport-security'], undefined, `${what}: no HSTS`);
  assert.equal(res.headers['x-powered-by'], undefined);
}

const shell = { 'index.html': '<!doctype html><title>t</title><script type="module" src="/app.js"></script>', 'app.js': 'export {};\n' };

test('every response over HTTP carries the security headers and no HSTS', async (t) => {
  const { url } = await start(t, { webRoot: webRootWith(shell) });
  await checkAll(url, false);
});

test('every response over HTTPS carries the security headers and HSTS for a year', async (t) => {
  const { url } = await start(t, { webRoot: webRootWith(shell), https: selfSignedCert() });
  await checkAll(url, true);
});

test('with tls.mode self-signed: the same headers but no HSTS (it would forbid clicking through, and the certificate changes with the address)', async (t) => {
  const { url } = await start(t, { webRoot: webRootWith(shell), https: selfSignedCert() }, 'self-signed');
  await checkAll(url, false);
});

test('signed-in API answers and a blob upload and download carry the headers too', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const w = await createWorld(server);
  const cookie = { cookie: w.alice.cookie, origin: server.url };
  const me = await send(server.url, 'GET', '/api/me', cookie);
  assert.equal(me.status, 200);
  checkHeaders(me, 'GET /api/me', false);
  const created = await send(server.url, 'POST', '/api/blobs', { ...cookie, 'content-type': 'application/json' }, JSON.stringify({ conv: w.dm, size: 64 }));
  assert.equal(created.status, 201, created.body);
  checkHeaders(created, 'blob create', false);
  const id = (JSON.parse(created.body) as { id: string }).id;
  const put = await send(server.url, 'PUT', `/api/blobs/${id}?offset=0`, { ...cookie, 'content-type': 'application/octet-stream' }, 'x'.repeat(64));
  assert.equal(put.status, 200, put.body);
  checkHeaders(put, 'blob upload', false);
  const got = await send(server.url, 'GET', `/api/blobs/${id}`, cookie);
  assert.equal(got.status, 200);
  assert.equal(got.body, 'x'.repeat(64));
  // Downloads are ciphertext: an even stricter policy, and framing still forbidden.
  checkHeaders(got, 'blob download', false, "default-src 'none'; sandbox; frame-ancestors 'none'");
  const missing = await send(server.url, 'GET', '/api/blobs/AAAAAAAAAAAAAAAAAAAAAA', cookie);
  assert.equal(missing.status, 404);
  checkHeaders(missing, 'blob 404', false);
});

test("the HTTP port's redirects and ACME-challenge 404s carry the headers (never HSTS: plain HTTP)", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'chatroom-headers-redirect-'));
  const config = resolveConfig(withDefaults({ host: '127.0.0.1', port: 0, httpPort: await freePort(), upnp: false, tls: { mode: 'self-signed' } }), dir);
  const server = await startServer(config, { saltKey: randomBytes(32).toString('base64'), addressKey: randomBytes(32).toString('base64') }, { webRoot: webRootWith(shell) });
  t.after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const base = `http://127.0.0.1:${server.httpPort}`;
  const redirect = await send(base, 'GET', '/anything?x=1');
  assert.equal(redirect.status, 301);
  assert.equal(redirect.headers.location, `https://127.0.0.1:${server.port}/anything?x=1`);
  checkHeaders(redirect, 'redirect', false);
  const challenge = await send(base, 'GET', '/.well-known/acme-challenge/token');
  assert.equal(challenge.status, 404);
  checkHeaders(challenge, 'ACME challenge 404', false);
  const bad = await send(base, 'GET', '/', { host: 'bad host' });
  assert.equal(bad.status, 400);
  checkHeaders(bad, 'redirect 400', false);
});

test('the CSP allows no inline script, eval or WASM', () => {
  const csp = EXPECTED['content-security-policy'];
  for (const bad of ["'unsafe-inline'", "'unsafe-eval'", "'wasm-unsafe-eval'", 'unsafe-hashes', '*']) assert.ok(!csp.includes(bad), bad);
});

test('the shell is index.html on client routes, never cached; dotfiles are not served', async (t) => {
  const { url } = await start(t, { webRoot: webRootWith({ ...shell, '.secret': 'nope' }) });
  for (const path of ['/', '/signin', '/setup/tok', '/invite/tok', '/c/some-conversation']) {
    const res = await send(url, 'GET', path);
    assert.equal(res.status, 200, path);
    assert.equal(res.body, shell['index.html'], path);
    assert.equal(res.headers['cache-control'], 'no-cache', path);
    assert.match(String(res.headers['content-type']), /^text\/html/);
  }
  const js = await send(url, 'GET', '/app.js');
  assert.equal(js.body, shell['app.js']);
  assert.match(String(js.headers['content-type']), /javascript/);
  assert.equal((await send(url, 'GET', '/.secret')).status, 404);
  assert.equal((await send(url, 'GET', '/%2e%2e/%2e%2e/etc/passwd')).status, 404);
});

test('without a built client the shell answers 503 with the fix', async (t) => {
  const { url } = await start(t, { webRoot: webRootWith({}) });
  const res = await send(url, 'GET', '/');
  assert.equal(res.status, 503);
  assert.match(res.body, /The web client is not built: run npm run build/);
  assert.equal(res.headers['x-frame-options'], 'DENY');
  assert.equal((await send(url, 'GET', '/healthz')).status, 200, 'the API still works');
});
