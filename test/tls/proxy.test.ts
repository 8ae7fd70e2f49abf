// tls.mode off and reverse proxies: off is refused on a non-loopback bind without behindProxy; X-Forwarded-* is believed only from trustedProxies; the Caddy and nginx templates proxy to the port their chatroom.yaml snippet configures (a valid config).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { parse } from 'yaml';
import { packageRoot } from '../../src/paths.ts';
import { loadConfig, validate } from '../../src/config/load.ts';
import { ChatroomError } from '../../src/shared/errors.ts';
import { startTestServer } from '../helpers/server.ts';
import { tempDir } from './helpers.ts';

function loadYaml(dir: string, text: string) {
  writeFileSync(join(dir, 'chatroom.yaml'), text);
  return loadConfig({ dir });
}

test('tls off: refused for a LAN bind without behindProxy, accepted on loopback or behind a proxy', (t) => {
  const dir = tempDir(t);
  assert.throws(
    () => loadYaml(dir, 'host: 0.0.0.0\ntls:\n  mode: off\n'),
    (e: ChatroomError) => e.code === 'CONFIG_INVALID' && e.details.key === 'tls.mode' && /browsers allow plain HTTP only on this computer/.test(e.message),
  );
  assert.throws(() => loadYaml(dir, 'host: 192.168.1.5\ntls:\n  mode: off\n'), (e: ChatroomError) => e.details.key === 'tls.mode');
  assert.equal(loadYaml(dir, 'host: 127.0.0.1\ntls:\n  mode: off\n').config.tls.mode, 'off');
  assert.equal(loadYaml(dir, 'host: 0.0.0.0\nbehindProxy: true\ntls:\n  mode: off\n').config.behindProxy, true);
  assert.throws(
    () => loadYaml(dir, 'host: 0.0.0.0\nbehindProxy: true\ntrustedProxies: [proxy.lan]\ntls:\n  mode: off\n'),
    (e: ChatroomError) => e.details.key === 'trustedProxies' && /"proxy\.lan" is neither/.test(e.message),
  );
  assert.equal(loadYaml(dir, 'behindProxy: true\ntrustedProxies: [10.0.0.0/8, "fd00::/8"]\ntls:\n  mode: off\n').config.trustedProxies.length, 2);
});

/** A WebSocket upgrade claiming (via X-Forwarded-*) to come through https://chat.example.org; resolves with the status. */
function forwardedUpgrade(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/ws`, {
      agent: false,
      headers: {
        origin: 'https://chat.example.org',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'chat.example.org',
        'x-forwarded-for': '203.0.113.9',
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': randomBytes(16).toString('base64'),
      },
    }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      reject(new Error('unexpected upgrade'));
    });
    req.on('error', reject);
    req.end();
  });
}

test('behind a proxy, X-Forwarded-* counts only from an address in trustedProxies', async (t) => {
  // The Origin check compares the Origin with the request's own scheme and host, which honour
  // X-Forwarded-Proto/-Host only when trusted: 401 (origin fine, not signed in) vs 403 (BAD_ORIGIN).
  const trusted = await startTestServer({ behindProxy: true, trustedProxies: ['127.0.0.1'] });
  t.after(() => trusted.close());
  assert.equal(await forwardedUpgrade(trusted.url), 401, 'a trusted proxy: its forwarded origin is ours');

  const elsewhere = await startTestServer({ behindProxy: true, trustedProxies: ['10.0.0.0/8'] });
  t.after(() => elsewhere.close());
  assert.equal(await forwardedUpgrade(elsewhere.url), 403, 'an untrusted peer cannot forge the scheme and host');

  const noProxy = await startTestServer();
  t.after(() => noProxy.close());
  assert.equal(await forwardedUpgrade(noProxy.url), 403, 'without behindProxy the headers are ignored');
});

for (const [file, upstream] of [
  ['Caddyfile', /reverse_proxy 127\.0\.0\.1:(\d+)/],
  ['nginx.conf', /proxy_pass http:\/\/127\.0\.0\.1:(\d+);/],
] as const) {
  test(`templates/proxy/${file} proxies to the port of the chatroom.yaml it describes, and that config is valid`, () => {
    const text = readFileSync(join(packageRoot, 'templates', 'proxy', file), 'utf8');
    const port = Number(upstream.exec(text)?.[1]);
    // The commented block after "In chatroom.yaml:" up to the first empty comment line after it.
    const lines = text.split('\n');
    const from = lines.findIndex((l) => /In chatroom\.yaml:/.test(l)) + 2;
    const to = lines.findIndex((l, i) => i >= from && /^#\s*$/.test(l));
    const snippet = lines.slice(from, to).map((l) => l.replace(/^#  ?/, '')).join('\n');
    const config = validate(parse(snippet) as Record<string, unknown>, () => ({ kind: 'file', file }));
    assert.equal(config.port, port, `${file}: upstream port = chatroom's port`);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.tls.mode, 'off');
    assert.equal(config.behindProxy, true);
    assert.ok(config.trustedProxies.includes('127.0.0.1'), 'the proxy on this computer is trusted');
    assert.match(config.publicUrl, /^https:\/\//);
    if (file === 'nginx.conf') {
      assert.match(text, /proxy_set_header Upgrade \$http_upgrade;/, 'WebSocket upgrades pass');
      assert.match(text, /proxy_set_header X-Forwarded-Proto https;/);
      assert.match(text, /access_log off;/, 'no request log');
    }
  });
}
