// The TLS modes through the CLI and startServer: init --yes --tls acme writes the mode and domain and explains port 80; what acme needs is checked up front; a busy HTTP port is fatal in acme mode; files mode starts and serves the configured pair; invite and setup links carry the self-signed fingerprint as a fragment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parse } from 'yaml';
import { resolveConfig, withDefaults } from '../../src/config/defaults.ts';
import { startServer } from '../../src/server/listen.ts';
import { createInviteLink } from '../../src/server/invites.ts';
import { storedSelfSignedFingerprint } from '../../src/tls/fingerprint.ts';
import { ChatroomError } from '../../src/shared/errors.ts';
import { runCli } from '../cli/helpers.ts';
import { openStore } from '../../src/store/index.ts';
import { createUser } from '../helpers/direct.ts';
import type { TestServer } from '../helpers/server.ts';
import { request as httpsRequest } from 'node:https';
import { opensslPair, presented, tempDir } from './helpers.ts';

/** POST JSON over HTTPS (self-signed accepted) with a session cookie and our own Origin. */
function httpsJson(url: string, cookie: string, body: unknown): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: 'POST', agent: false, rejectUnauthorized: false, headers: { cookie, origin: new URL(url).origin, 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const secrets = () => ({ saltKey: randomBytes(32).toString('base64'), addressKey: randomBytes(32).toString('base64') });

test('init --yes --tls acme --domain writes the mode and the domain, and says what the CA needs', async (t) => {
  const dir = tempDir(t);
  const r = await runCli(t, ['init', '--yes', '--dir', dir, '--tls', 'acme', '--domain', 'chat.example.org', '--no-upnp']);
  assert.equal(r.code, 0, r.stderr);
  const yaml = parse(readFileSync(join(dir, 'chatroom.yaml'), 'utf8'));
  assert.equal(yaml.tls.mode, 'acme');
  assert.equal(yaml.tls.domain, 'chat.example.org');
  assert.match(r.stdout, /A certificate for chat\.example\.org is ordered when the server starts \(HTTP-01 on port 8080\)/);
  assert.match(r.stdout, /forward port 80 to 8080/);
  assert.match(r.stdout, /^Admin setup link: https:\/\/chat\.example\.org:8443\/setup\/\S+$/m, 'links use the name the certificate will carry');
  assert.doesNotMatch(r.stdout, /fingerprint/);
});

test('acme needs a public DNS name and the HTTP port; each problem names the key', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--tls', 'acme'], /`tls\.domain` must be set when tls\.mode is acme/],
    [['--tls', 'acme', '--domain', 'chatbox.local'], /`tls\.domain` must be a public DNS name/],
    [['--tls', 'acme', '--domain', '192.0.2.7'], /`tls\.domain` must be a DNS name such as chat\.example\.org/],
    [['--tls', 'acme', '--domain', 'chat.example.org', '--http-port', '0'], /`httpPort` cannot be 0 when tls\.mode is acme/],
    [['--tls', 'off', '--host', '0.0.0.0'], /`tls\.mode` is off but `host` is "0\.0\.0\.0"/],
  ];
  for (const [flags, message] of cases) {
    const r = await runCli(t, ['init', '--yes', '--dir', tempDir(t), '--no-upnp', ...flags]);
    assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stdout}`);
    assert.match(r.stderr, /CONFIG_INVALID/);
    assert.match(r.stderr, message, flags.join(' '));
  }
});

test('acme mode: a busy HTTP port stops the start (the CA validates through it)', async (t) => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => blocker.close());
  const { port: busy } = blocker.address() as { port: number };
  const config = resolveConfig(withDefaults({ host: '127.0.0.1', port: 0, httpPort: busy, upnp: false, tls: { mode: 'acme', domain: 'chat.example.org' } }), tempDir(t));
  await assert.rejects(startServer(config, secrets()), (e: ChatroomError) => {
    assert.equal(e.code, 'PORT_IN_USE');
    assert.equal(e.details.key, 'httpPort');
    assert.match(e.message, new RegExp(`Port ${busy} is already in use`));
    assert.match(e.message, /tls\.mode acme needs it/);
    assert.doesNotMatch(e.message, /0 turns the HTTP redirect off/);
    return true;
  });
});

test('files mode serves the configured pair, with no fingerprint in links', async (t) => {
  const dir = tempDir(t);
  const pair = opensslPair('files.home.test', 90);
  writeFileSync(join(dir, 'c.pem'), pair.cert);
  writeFileSync(join(dir, 'k.pem'), pair.key);
  const config = resolveConfig(withDefaults({ host: '127.0.0.1', port: 0, httpPort: 0, upnp: false, tls: { mode: 'files', certFile: 'c.pem', keyFile: 'k.pem' } }), dir);
  const server = await startServer(config, secrets());
  t.after(() => server.close());
  assert.equal((await presented(server.port, 'files.home.test')).fingerprint256, new X509Certificate(pair.cert).fingerprint256);
  assert.equal(server.fingerprint, undefined);
  assert.doesNotMatch(server.setupLink ?? '', /#/);
  assert.ok(server.warnings.some((w) => /signed itself/.test(w)), 'the start warns about a self-signed file');
});

test('self-signed: setup links and invite links made through the running server end in #sha256=<fingerprint>', async (t) => {
  const dir = tempDir(t);
  const config = resolveConfig(withDefaults({ host: '127.0.0.1', port: 0, httpPort: 0, upnp: false, tls: { mode: 'self-signed' } }), dir);
  const server = await startServer(config, secrets());
  t.after(() => server.close());
  const hex = server.fingerprint!.replace(/:/g, '');
  assert.match(server.setupLink!, new RegExp(`/setup/[A-Za-z0-9_-]+#sha256=${hex}$`));
  assert.equal(storedSelfSignedFingerprint(config), server.fingerprint, 'another process (chatroom invite) reads the same fingerprint from disk');
  // An admin (made in the same database) asks the HTTP API for an invite link.
  const other = await openStore(config);
  t.after(() => other.close());
  const admin = await createUser({ store: other } as TestServer, 'admin1', 'owner');
  const res = await httpsJson(`https://127.0.0.1:${server.port}/api/invites`, admin.cookie, {});
  assert.equal(res.status, 200, JSON.stringify(res.json));
  assert.match((res.json as { url: string }).url, new RegExp(`/invite/[A-Za-z0-9_-]+#sha256=${hex}$`), 'the API link carries the fragment');

  const plain = await createInviteLink(other, 'https://x.test', { kind: 'invite', ttlHours: 1 });
  assert.doesNotMatch(plain.url, /#/, 'a store no server registered: no fragment');
  const explicit = await createInviteLink(other, 'https://x.test', { kind: 'invite', ttlHours: 1, fingerprint: server.fingerprint });
  assert.match(explicit.url, new RegExp(`#sha256=${hex}$`));
});
