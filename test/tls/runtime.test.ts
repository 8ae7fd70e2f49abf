// Certificate runtime without ACME: self-signed reuse across restarts and regeneration when an address changes (served live), files mode checks at start and live reload, a bad new pair keeps the old one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig, withDefaults, type PartialConfig } from '../../src/config/defaults.ts';
import { createTlsRuntime } from '../../src/tls/runtime.ts';
import { ensureSelfSignedCert, subjectAltNames } from '../../src/tls/selfsigned.ts';
import { ChatroomError } from '../../src/shared/errors.ts';
import { httpsServer, lineCollector, opensslPair, presented, tempDir } from './helpers.ts';

function config(dir: string, partial: PartialConfig) {
  return resolveConfig(withDefaults({ host: '127.0.0.1', port: 0, httpPort: 0, upnp: false, ...partial }), dir);
}

test('self-signed: the same certificate after a restart; a new LAN address makes a new one, served to new connections without a restart', async (t) => {
  const dir = tempDir(t);
  let addresses = ['127.0.0.1', '::1', '192.168.1.20'];
  const names = () => ({ dnsNames: ['localhost', 'myhost.local'], ipAddresses: addresses });
  const cfg = config(dir, { tls: { mode: 'self-signed' } });

  const first = createTlsRuntime(cfg, { names });
  await first.load();
  first.close();
  const progress = lineCollector();
  const tls = createTlsRuntime(cfg, { names, progress: progress.push });
  await tls.load();
  t.after(() => tls.close());
  assert.equal(tls.fingerprint, first.fingerprint, 'a restart keeps the fingerprint people compared');
  assert.equal(tls.source, 'self-signed');
  assert.deepEqual(subjectAltNames(tls.pair!.cert), ['DNS:localhost', 'DNS:myhost.local', 'IP Address:127.0.0.1', 'IP Address:192.168.1.20', 'IP Address:::1']);

  const { server, port } = await httpsServer(t, tls.pair!);
  tls.attach(server);
  assert.equal((await presented(port)).fingerprint256, first.fingerprint);
  assert.equal(await tls.refresh(), false, 'nothing changed: nothing re-made');

  addresses = ['127.0.0.1', '::1', '192.168.1.77'];
  assert.equal(await tls.refresh(), true);
  assert.notEqual(tls.fingerprint, first.fingerprint);
  const served = await presented(port);
  assert.equal(served.fingerprint256, tls.fingerprint, 'new connections get the new certificate');
  assert.match(served.subjectaltname ?? '', /IP Address:192\.168\.1\.77/);
  assert.doesNotMatch(served.subjectaltname ?? '', /192\.168\.1\.20/);
  await progress.waitFor(new RegExp(`new self-signed certificate, SHA-256 fingerprint ${tls.fingerprint}`));
});

test('self-signed: the address check runs by itself on its interval', async (t) => {
  const dir = tempDir(t);
  let addresses = ['127.0.0.1', '10.1.1.1'];
  const progress = lineCollector();
  const tls = createTlsRuntime(config(dir, { tls: { mode: 'self-signed' } }), { names: () => ({ dnsNames: ['localhost'], ipAddresses: addresses }), addressCheckMs: 50, progress: progress.push });
  await tls.load();
  t.after(() => tls.close());
  const { server, port } = await httpsServer(t, tls.pair!);
  tls.attach(server);
  addresses = ['127.0.0.1', '10.1.1.2'];
  await progress.waitFor(/new self-signed certificate/);
  assert.match((await presented(port)).subjectaltname ?? '', /10\.1\.1\.2/);
});

test('files: a missing file, a key of another certificate and an expired certificate are refused at start with what to do', async (t) => {
  const dir = tempDir(t);
  const a = opensslPair('a.home.test');
  const b = opensslPair('b.home.test');
  const old = await ensureSelfSignedCert({ dir: join(dir, 'old'), dnsNames: ['old.home.test'], ipAddresses: [], now: Date.parse('2020-01-01T00:00:00Z') });
  writeFileSync(join(dir, 'a.crt'), a.cert);
  writeFileSync(join(dir, 'b.key'), b.key);
  writeFileSync(join(dir, 'a.key'), a.key);
  writeFileSync(join(dir, 'old.crt'), old.cert);
  writeFileSync(join(dir, 'old.key'), old.key);
  const load = (certFile: string, keyFile: string) => createTlsRuntime(config(dir, { tls: { mode: 'files', certFile, keyFile } })).load();

  await assert.rejects(load('missing.crt', 'a.key'), (e: ChatroomError) => e.code === 'CONFIG_INVALID' && /cannot read .*missing\.crt: there is no such file/.test(e.message));
  await assert.rejects(load('a.crt', 'b.key'), (e: ChatroomError) => e.code === 'CONFIG_INVALID' && /b\.key is not the private key of the certificate in .*a\.crt/.test(e.message));
  await assert.rejects(load('old.crt', 'old.key'), (e: ChatroomError) => e.code === 'CONFIG_INVALID' && /expired on 2020-12-31/.test(e.message));
  await assert.rejects(load('a.key', 'a.key'), (e: ChatroomError) => e.code === 'CONFIG_INVALID' && /holds no PEM certificate/.test(e.message));
});

test('files: a renewed pair is served as soon as it is written; a mismatched pair keeps the previous one with a warning', async (t) => {
  const dir = tempDir(t);
  const a = opensslPair('a.home.test');
  const b = opensslPair('b.home.test');
  writeFileSync(join(dir, 'chat.crt'), a.cert);
  writeFileSync(join(dir, 'chat.key'), a.key);
  const progress = lineCollector();
  const tls = createTlsRuntime(config(dir, { tls: { mode: 'files', certFile: 'chat.crt', keyFile: 'chat.key' } }), { progress: progress.push });
  await tls.load();
  t.after(() => tls.close());
  assert.equal(tls.source, 'files');
  assert.equal(tls.fingerprint, undefined, 'no fingerprint to compare for a certificate the browser checks');
  assert.ok(tls.notices.some((n) => /signed itself/.test(n)), tls.notices.join('\n'));
  const { server, port } = await httpsServer(t, tls.pair!);
  tls.attach(server);
  assert.equal((await presented(port, 'a.home.test')).fingerprint256, new X509Certificate(a.cert).fingerprint256);

  // The way certbot-style tools replace files: a new file renamed over the old one, key first.
  let mark = progress.lines.length;
  writeFileSync(join(dir, 'chat.key.new'), b.key);
  renameSync(join(dir, 'chat.key.new'), join(dir, 'chat.key'));
  writeFileSync(join(dir, 'chat.crt.new'), b.cert);
  renameSync(join(dir, 'chat.crt.new'), join(dir, 'chat.crt'));
  await progress.waitFor(/^Reloaded the certificate from .*chat\.crt/, mark);
  assert.equal((await presented(port, 'b.home.test')).fingerprint256, new X509Certificate(b.cert).fingerprint256);

  mark = progress.lines.length;
  writeFileSync(join(dir, 'chat.crt'), a.cert);
  await progress.waitFor(/^! Kept serving the previous certificate: .*not the private key/, mark);
  assert.equal((await presented(port, 'b.home.test')).fingerprint256, new X509Certificate(b.cert).fingerprint256, 'the old pair still serves');
});
