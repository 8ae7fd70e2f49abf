// ACME against Debian's pebble on loopback: `init --tls acme` + `start` obtains and serves a certificate that verifies against pebble's root, renews it on schedule while an open connection keeps working, and falls back (self-signed, or the last good certificate) with the CA's reason when an order fails.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { resolveConfig, withDefaults } from '../../src/config/defaults.ts';
import { startServer } from '../../src/server/listen.ts';
import { acmePaths, readLastFailure } from '../../src/tls/acme-store.ts';
import { runCli, spawnCli, tempDir } from '../cli/helpers.ts';
import { freeTcpPort, pebbleSkip, startPebble } from './pebble.ts';
import { lineCollector } from './helpers.ts';

const skip = pebbleSkip();

/** Connects to 127.0.0.1:port as `servername`, verifying against `ca` only. */
function verifiedHandshake(port: number, servername: string, ca: string): Promise<{ authorized: boolean; error?: string; cert: X509Certificate }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername, ca, rejectUnauthorized: false }, () => {
      const peer = socket.getPeerX509Certificate()!;
      resolve({ authorized: socket.authorized, error: socket.authorizationError?.toString(), cert: peer });
      socket.end();
    });
    socket.on('error', reject);
  });
}

/** GET through `agent`, resolving with the status and the TLS socket it went over. */
function get(port: number, path: string, agent: Agent): Promise<{ status: number; socket: TLSSocket }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, servername: 'chat.home.test', agent, headers: { host: 'chat.home.test' } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, socket: res.socket as TLSSocket }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function initAcme(t: TestContext, dir: string, domain: string, httpPort: number): Promise<void> {
  const init = await runCli(t, ['init', '--yes', '--dir', dir, '--tls', 'acme', '--domain', domain, '--host', '127.0.0.1', '--port', '0', '--http-port', String(httpPort), '--no-upnp']);
  assert.equal(init.code, 0, init.stderr);
}

test('init --tls acme + start: a certificate from pebble, served and verified against its root, renewed while an open connection keeps working', { skip, timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const httpPort = await freeTcpPort();
  // 30 s certificates: renewal is due after 20 s (a third of the lifetime left).
  const pebble = await startPebble(t, tempDir(t, 'chatroom-pebble-'), { httpPort, validitySeconds: 30 });
  await initAcme(t, dir, 'chat.home.test', httpPort);

  const child = spawnCli(t, ['start', '--dir', dir], { CHATROOM_TLS_ACME_DIRECTORY_URL: pebble.directoryUrl, CHATROOM_TLS_ACME_CA_FILE: pebble.apiCaFile });
  await child.stdout.waitFor(/Ordering a certificate for chat\.home\.test/, 60_000);
  await child.stdout.waitFor(/Certificate for chat\.home\.test issued, valid until/, 60_000);
  const [, port] = await child.stdout.waitFor(/^Local: +https:\/\/[^:]+:(\d+)$/m);
  await child.stdout.waitFor(/Press Ctrl\+C to stop/);
  assert.match(child.stdout.text, /^Certificate: chat\.home\.test from Pebble Intermediate CA \S+ \(ACME\), valid until/m);
  assert.match(child.stdout.text, new RegExp(`^Domain: +https://chat\\.home\\.test:${port}$`, 'm'));
  assert.match(child.stdout.text, new RegExp(`^Admin setup link: https://chat\\.home\\.test:${port}/setup/[A-Za-z0-9_-]+$`, 'm'), 'links use the domain; no fingerprint fragment');
  assert.doesNotMatch(child.stdout.text, /fingerprint/, 'a CA certificate needs no fingerprint comparing');

  const root = await pebble.root();
  const first = await verifiedHandshake(Number(port), 'chat.home.test', root);
  // Only the root is trusted here: verifying means the server sends the intermediate too.
  assert.equal(first.authorized, true, `chain verifies against pebble's root: ${first.error}`);
  assert.equal(first.cert.checkHost('chat.home.test'), 'chat.home.test');
  const paths = acmePaths(dir);
  assert.equal(new X509Certificate(readFileSync(paths.cert)).serialNumber, first.cert.serialNumber, 'the stored certificate is the one served');
  assert.equal(statSync(paths.accountKey).mode & 0o777, 0o600);
  assert.equal(statSync(paths.certKey).mode & 0o777, 0o600);

  // One keep-alive connection opened before the renewal.
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: root });
  t.after(() => agent.destroy());
  const before = await get(Number(port), '/healthz', agent);
  assert.equal(before.status, 200);

  await child.stdout.waitFor(/New certificate for chat\.home\.test, valid until/, 60_000);
  const after = await get(Number(port), '/healthz', agent);
  assert.equal(after.status, 200);
  assert.equal(after.socket, before.socket, 'the same connection keeps working across the renewal');
  const renewed = await verifiedHandshake(Number(port), 'chat.home.test', root);
  assert.equal(renewed.authorized, true);
  assert.notEqual(renewed.cert.serialNumber, first.cert.serialNumber, 'new connections get the renewed certificate');

  // The HTTP port: challenges only while an order waits, everything else redirected.
  const res = await fetch(`http://127.0.0.1:${httpPort}/.well-known/acme-challenge/unknown-token`);
  assert.equal(res.status, 404);
  const redirect = await fetch(`http://127.0.0.1:${httpPort}/x`, { redirect: 'manual', headers: { host: 'chat.home.test' } });
  assert.equal(redirect.status, 301);

  child.proc.kill('SIGTERM');
  assert.equal(await child.exited, 0, child.stderr.text);
  assert.doesNotMatch(child.stderr.text, /127\.0\.0\.1/, 'no addresses in the log');
});

test('a CA that refuses the name: start serves a self-signed certificate, says why, and records the reason for doctor', { skip, timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const httpPort = await freeTcpPort();
  const pebble = await startPebble(t, tempDir(t, 'chatroom-pebble-'), { httpPort, blocklist: ['blocked.home.test'] });
  await initAcme(t, dir, 'blocked.home.test', httpPort);

  const child = spawnCli(t, ['start', '--dir', dir], { CHATROOM_TLS_ACME_DIRECTORY_URL: pebble.directoryUrl, CHATROOM_TLS_ACME_CA_FILE: pebble.apiCaFile });
  const [, port] = await child.stdout.waitFor(/^Local: +https:\/\/[^:]+:(\d+)$/m, 60_000);
  const [, fingerprint] = await child.stdout.waitFor(/^Certificate SHA-256 fingerprint: ([0-9A-F:]{95})$/m);
  await child.stdout.waitFor(/Press Ctrl\+C to stop/);
  assert.match(child.stderr.text, /Could not get a certificate for blocked\.home\.test from 127\.0\.0\.1:\d+: .*(blocked|policy|forbid).*\. Serving a self-signed certificate meanwhile/i);

  const served = await verifiedHandshake(Number(port), 'blocked.home.test', '');
  assert.equal(served.cert.fingerprint256, fingerprint);
  assert.equal(served.cert.checkHost('blocked.home.test'), 'blocked.home.test', 'the fallback covers the domain too');
  const failure = readLastFailure(acmePaths(dir));
  assert.ok(failure, 'last-failure.json is written');
  assert.equal(failure.domain, 'blocked.home.test');
  assert.match(failure.reason, /blocked|policy|forbid/i);
  assert.doesNotMatch(failure.reason, /127\.0\.0\.1/);

  child.proc.kill('SIGTERM');
  assert.equal(await child.exited, 0, child.stderr.text);
});

test('a renewal due while the CA is unreachable keeps serving the last good certificate', { skip, timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const httpPort = await freeTcpPort();
  const pebble = await startPebble(t, tempDir(t, 'chatroom-pebble-'), { httpPort });
  const secrets = { saltKey: randomBytes(32).toString('base64'), addressKey: randomBytes(32).toString('base64') };
  const make = (directoryUrl: string) =>
    resolveConfig(
      withDefaults({ host: '127.0.0.1', port: 0, httpPort, upnp: false, tls: { mode: 'acme', domain: 'chat.home.test', acme: { directoryUrl, caFile: pebble.apiCaFile } } }),
      dir,
    );

  const first = await startServer(make(pebble.directoryUrl), secrets);
  const good = first.tls!.pair!.cert;
  assert.equal(first.tls!.source, 'acme');
  await first.close();

  // Four years on, pebble's 5-year certificate is due for renewal (but not expired) and the CA is gone.
  const deadCa = `https://127.0.0.1:${await freeTcpPort()}/dir`;
  const progress = lineCollector();
  const second = await startServer(make(deadCa), secrets, { progress: progress.push, tls: { now: () => Date.now() + 4 * 365 * 86_400_000 } });
  t.after(() => second.close());
  assert.equal(second.tls!.source, 'acme-last-good');
  assert.equal(second.tls!.pair!.cert, good);
  assert.equal(second.fingerprint, undefined);
  assert.ok(
    second.warnings.some((w) => /^Could not get a new certificate for chat\.home\.test: the CA refused the connection .*Serving the last good one \(valid until/.test(w)),
    second.warnings.join('\n'),
  );
  const served = await verifiedHandshake(second.port, 'chat.home.test', await pebble.root());
  assert.equal(served.authorized, true, 'still a certificate browsers trust');
  assert.ok(existsSync(acmePaths(dir).lastFailure));
});
