// Security headers on every kind of response (API, HTML, static, 404, errors, healthz, WebSocket refusals); HSTS only with TLS; the client shell.
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
    const req = make(url, { method, headers, rejectUnauthorized: false }, (res) => {
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

/** A server like startTestServer's, but with a chosen web root and optional TLS. */
async function start(t: { after(fn: () => Promise<void>): void }, opts: BuildAppOptions = {}): Promise<{ url: string; app: FastifyInstance }> {
  const dir = mkdtempSync(join(tmpdir(), 'chatroom-headers-'));
  const config = resolveConfig(withDefaults({ host: '127.0.0.1', port: 0, httpPort: 0, upnp: false, tls: { mode: opts.https ? 'files' : 'off' } }), dir);
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
];

async function checkAll(base: string, tls: boolean): Promise<void> {
  for (const c of CASES) {
    const res = await send(base, c.method, c.path, { origin: base, ...c.headers }, c.body);
    assert.equal(res.status, c.status, `${c.what}: status`);
    for (const [name, value] of Object.entries(EXPECTED)) assert.equal(res.headers[name], value, `${c.what}: ${name}`);
    assert.match(String(res.headers['permissions-policy']), /microphone=\(self\), camera=\(self\), geolocation=\(\)/, `${c.what}: permissions-policy`);
    if (tls) assert.equal(res.headers['strict-transport-security'], 'max-age=31536000', `${c.what}: HSTS`);
    else assert.equal(res.headers['strict-transport-security'], undefined, `${c.what}: no HSTS without TLS`);
    assert.equal(res.headers['x-powered-by'], undefined);
    if (c.path.startsWith('/api/')) assert.equal(res.headers['cache-control'], 'no-store', `${c.what}: cache-control`);
  }
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
