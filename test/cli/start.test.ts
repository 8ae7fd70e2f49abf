// chatroom start: missing/invalid config and busy ports exit 2; a good config serves HTTPS with the printed self-signed certificate, redirects HTTP, stops on SIGTERM/SIGINT with exit 0 and keeps its fingerprint across restarts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { run } from '../../src/cli/index.ts';
import { openStore } from '../../src/store/index.ts';
import { localAddresses } from '../../src/tls/addresses.ts';
import { fakeContext, freePort, runCli, spawnCli, tempDir } from './helpers.ts';

function writeYaml(dir: string, text: string): void {
  writeFileSync(join(dir, 'chatroom.yaml'), text);
}

/** GET over HTTPS trusting exactly `ca` (the server's self-signed certificate), with normal verification. */
function httpsGet(url: string, ca: string): Promise<{ status: number; body: string; peerFingerprint: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, agent: false }, (res) => {
      const peer = (res.socket as import('node:tls').TLSSocket).getPeerCertificate();
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, peerFingerprint: peer.fingerprint256 }));
    });
    req.on('error', reject);
    req.end();
  });
}

function httpGet(url: string): Promise<{ status: number; location?: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('start without chatroom.yaml and without a TTY exits 2 and says to run init', async (t) => {
  const dir = tempDir(t);
  const r = await runCli(t, ['start', '--dir', dir]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /CONFIG_MISSING/);
  assert.match(r.stderr, /chatroom init --dir /);
});

test('start with `port: not-a-port` exits 2 naming the key, the value and an example', async (t) => {
  const dir = tempDir(t);
  writeYaml(dir, 'name: x\nport: not-a-port\n');
  const r = await runCli(t, ['start', '--dir', dir]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /CONFIG_INVALID/);
  assert.match(r.stderr, /chatroom\.yaml line 2: `port` must be a whole number from 1 to 65535 \(got "not-a-port"\), e\.g\. port: 8443/);
});

test('start on a port that is in use exits 2 with PORT_IN_USE naming the port', async (t) => {
  const dir = tempDir(t);
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => blocker.close());
  const { port } = blocker.address() as { port: number };
  writeYaml(dir, `host: 127.0.0.1\nport: ${port}\nhttpPort: 0\nupnp: false\n`);
  const r = await runCli(t, ['start', '--dir', dir]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /PORT_IN_USE/);
  assert.match(r.stderr, new RegExp(`Port ${port} is already in use`));
  assert.match(r.stderr, new RegExp(`lsof -nP -iTCP:${port}`));
});

test('acme without a domain, or with httpPort 0, exits 2 naming the key', async (t) => {
  const dir = tempDir(t);
  writeYaml(dir, 'host: 127.0.0.1\nport: 0\nhttpPort: 0\ntls:\n  mode: acme\n');
  const r = await runCli(t, ['start', '--dir', dir]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /CONFIG_INVALID/);
  assert.match(r.stderr, /tls\.domain/);
  writeYaml(dir, 'host: 127.0.0.1\nport: 0\nhttpPort: 0\ntls:\n  mode: acme\n  domain: chat.example.org\n');
  const r2 = await runCli(t, ['start', '--dir', dir]);
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /httpPort/);
});

test('a good config serves HTTPS with the printed certificate, redirects HTTP, exits 0 on SIGTERM and keeps its fingerprint', async (t) => {
  const dir = tempDir(t);
  const httpPort = await freePort();
  writeYaml(dir, `name: Test room\nhost: 127.0.0.1\nport: 0\nhttpPort: ${httpPort}\nupnp: false\n`);

  const first = spawnCli(t, ['start', '--dir', dir]);
  const [, port] = await first.stdout.waitFor(/^Local: +https:\/\/localhost:(\d+)$/m);
  const [, fingerprint] = await first.stdout.waitFor(/^Certificate SHA-256 fingerprint: ([0-9A-F:]{95})$/m);
  await first.stdout.waitFor(/^Admin setup link: https:\/\/localhost:\d+\/setup\/\S+$/m);

  const cert = readFileSync(join(dir, 'tls', 'self-signed.crt'), 'utf8');
  assert.equal(new X509Certificate(cert).fingerprint256, fingerprint, 'the printed fingerprint is the certificate on disk');
  const health = await httpsGet(`https://127.0.0.1:${port}/healthz`, cert);
  assert.equal(health.status, 200);
  assert.equal(health.peerFingerprint, fingerprint, 'the server presents that certificate');
  const viaName = await httpsGet(`https://localhost:${port}/healthz`, cert);
  assert.equal(viaName.status, 200, 'the certificate also covers localhost');

  const redirect = await httpGet(`http://127.0.0.1:${httpPort}/some/path?x=1`);
  assert.equal(redirect.status, 301);
  assert.equal(redirect.location, `https://127.0.0.1:${port}/some/path?x=1`);
  assert.equal((await httpGet(`http://127.0.0.1:${httpPort}/.well-known/acme-challenge/abc`)).status, 404);

  first.proc.kill('SIGTERM');
  assert.equal(await first.exited, 0, first.stderr.text);
  assert.match(first.stdout.text, /^Stopped\.$/m);
  // The operational log holds event codes only: no addresses.
  assert.doesNotMatch(first.stderr.text, /127\.0\.0\.1|localhost/);
  for (const line of first.stderr.text.trim().split('\n')) assert.match(line, /^\S+Z [a-z]+(\.[a-z0-9_]+)+( [a-zA-Z]+=\S+)*$/);

  const second = spawnCli(t, ['start', '--dir', dir]);
  const [, fingerprintAgain] = await second.stdout.waitFor(/^Certificate SHA-256 fingerprint: ([0-9A-F:]{95})$/m);
  assert.equal(fingerprintAgain, fingerprint, 'a restart reuses the certificate');
  second.proc.kill('SIGINT');
  assert.equal(await second.exited, 0, second.stderr.text);
});

test('start in-process: flags beat the file, SIGINT resolves 0 and the store is closed and reusable', async (t) => {
  const dir = tempDir(t);
  writeYaml(dir, 'host: 127.0.0.1\nport: 1\nhttpPort: 0\nupnp: false\ntls:\n  mode: self-signed\n');
  const { ctx, stdout, signals } = fakeContext();
  const done = run(['node', 'chatroom', 'start', '--dir', dir, '--port', '0', '--tls', 'off'], ctx);
  const [, url] = await stdout.waitFor(/^Local: +(http:\/\/127\.0\.0\.1:\d+)$/m);
  await stdout.waitFor(/Press Ctrl\+C to stop/);
  const res = await fetch(`${url}/healthz`);
  assert.equal(res.status, 200);
  assert.doesNotMatch(stdout.text, /fingerprint/, 'no certificate with tls off');
  signals.emit('SIGINT');
  assert.equal(await done, 0);
  assert.equal(signals.listenerCount('SIGINT'), 0, 'signal handlers are removed');
  const store = await openStore({ dataPath: dir });
  assert.equal(await store.countUsers(), 0);
  await store.close();
});

test('a signal during startup still stops cleanly with exit 0', async (t) => {
  const dir = tempDir(t);
  writeYaml(dir, 'host: 127.0.0.1\nport: 0\nhttpPort: 0\nupnp: false\ntls:\n  mode: off\n');
  const { ctx, signals } = fakeContext();
  const done = run(['node', 'chatroom', 'start', '--dir', dir], ctx);
  signals.emit('SIGTERM');
  assert.equal(await done, 0);
});

test('the HTTP redirect keeps the host name, swaps in the HTTPS port and refuses odd Host headers', async () => {
  const { redirectTarget } = await import('../../src/server/listen.ts');
  assert.equal(redirectTarget({ publicUrl: '' }, 8443, '192.168.1.5:8080', '/a?b=1'), 'https://192.168.1.5:8443/a?b=1');
  assert.equal(redirectTarget({ publicUrl: '' }, 443, 'chat.local', '/'), 'https://chat.local/');
  assert.equal(redirectTarget({ publicUrl: '' }, 8443, '[fd00::5]:8080', '/'), 'https://[fd00::5]:8443/');
  assert.equal(redirectTarget({ publicUrl: 'https://chat.example.org/' }, 8443, 'evil.example', '/x'), 'https://chat.example.org/x');
  assert.equal(redirectTarget({ publicUrl: '' }, 8443, 'evil.example/path', '/'), null);
  assert.equal(redirectTarget({ publicUrl: '' }, 8443, 'a@b', '/'), null);
  assert.equal(redirectTarget({ publicUrl: '' }, 8443, undefined, '/'), null);
});

test('a busy HTTP redirect port is a warning: HTTPS is still served', async (t) => {
  const dir = tempDir(t);
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => blocker.close());
  const { port: busy } = blocker.address() as { port: number };
  writeYaml(dir, `host: 127.0.0.1\nport: 0\nhttpPort: ${busy}\nupnp: false\n`);
  const { ctx, stdout, stderr, signals } = fakeContext();
  const done = run(['node', 'chatroom', 'start', '--dir', dir], ctx);
  const [, port] = await stdout.waitFor(/^Local: +https:\/\/localhost:(\d+)$/m);
  await stdout.waitFor(/Press Ctrl\+C to stop/);
  assert.match(stderr.text, new RegExp(`No HTTP→HTTPS redirect: Port ${busy} is already in use`));
  assert.doesNotMatch(stdout.text, /redirects to HTTPS/);
  const cert = readFileSync(join(dir, 'tls', 'self-signed.crt'), 'utf8');
  assert.equal((await httpsGet(`https://127.0.0.1:${port}/healthz`, cert)).status, 200);
  signals.emit('SIGTERM');
  assert.equal(await done, 0);
});

test('with host 0.0.0.0 every LAN address gets a Network line, a setup link variant and a SAN', { skip: localAddresses().ipv4.length === 0 && 'no LAN IPv4 address here' }, async (t) => {
  const dir = tempDir(t);
  writeYaml(dir, 'host: 0.0.0.0\nport: 0\nhttpPort: 0\nupnp: false\n');
  const { ctx, stdout, signals } = fakeContext();
  const done = run(['node', 'chatroom', 'start', '--dir', dir], ctx);
  const [, port] = await stdout.waitFor(/^Local: +https:\/\/localhost:(\d+)$/m);
  await stdout.waitFor(/Press Ctrl\+C to stop/);
  const { ipv4 } = localAddresses();
  for (const ip of ipv4) assert.match(stdout.text, new RegExp(`^Network: https://${ip.replace(/\./g, '\\.')}:${port}$`, 'm'));
  assert.match(stdout.text, new RegExp(`from another device on your network: https://${ipv4[0].replace(/\./g, '\\.')}:${port}/setup/\\S+`));
  assert.doesNotMatch(stdout.text, /\x1b\[/, 'no colors or QR code without a TTY');
  const cert = new X509Certificate(readFileSync(join(dir, 'tls', 'self-signed.crt'), 'utf8'));
  for (const ip of ipv4) assert.equal(cert.checkIP(ip), ip);
  signals.emit('SIGTERM');
  assert.equal(await done, 0);
});
