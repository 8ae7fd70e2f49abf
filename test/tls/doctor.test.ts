// Doctor's TLS section: a fresh self-signed certificate is all ✓ with its fingerprint; near expiry warns, expiry and a wrong key fail; acme reports the last failed order and port 80; doctor reads files and changes none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig, withDefaults, type PartialConfig } from '../../src/config/defaults.ts';
import { tlsChecks } from '../../src/cli/doctor/checks/tls.ts';
import type { Check, DoctorFacts } from '../../src/cli/doctor/types.ts';
import { certNames } from '../../src/tls/addresses.ts';
import { ensureSelfSignedCert } from '../../src/tls/selfsigned.ts';
import { acmePaths, writeLastFailure } from '../../src/tls/acme-store.ts';
import { opensslPair, tempDir } from './helpers.ts';

async function doctor(dir: string, partial: PartialConfig, facts: DoctorFacts = {}): Promise<Map<string, Check>> {
  const config = resolveConfig(withDefaults({ host: '127.0.0.1', port: 8443, httpPort: 8080, upnp: false, ...partial }), dir);
  const checks = await tlsChecks({ config, dir, env: {}, facts, timeoutMs: 1000 });
  for (const c of checks) assert.equal(c.section, 'tls', c.id);
  return new Map(checks.map((c) => [c.id, c]));
}

/** Every file under `dir` with its size and mtime, to prove nothing was written. */
function snapshot(dir: string): string {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const s = statSync(p);
      if (s.isDirectory()) walk(p);
      else out.push(`${p} ${s.size} ${s.mtimeMs}`);
    }
  };
  walk(dir);
  return out.join('\n');
}

test('self-signed, freshly made: mode, issuer, names, expiry, key, chain and fingerprint all ✓', async (t) => {
  const dir = tempDir(t);
  const cert = await ensureSelfSignedCert({ dir: join(dir, 'tls'), ...certNames({ host: '127.0.0.1', tls: { domain: '' } }) });
  const before = snapshot(dir);
  const checks = await doctor(dir, { tls: { mode: 'self-signed' } });
  assert.deepEqual([...checks.keys()], ['tls.mode', 'tls.issuer', 'tls.names', 'tls.expiry', 'tls.key', 'tls.chain', 'tls.fingerprint']);
  for (const c of checks.values()) assert.equal(c.status, 'ok', `${c.id}: ${c.value}`);
  assert.equal(checks.get('tls.issuer')?.value, 'self-signed');
  assert.equal(checks.get('tls.fingerprint')?.value, cert.fingerprint256);
  assert.match(checks.get('tls.names')!.value, /localhost/);
  assert.equal(snapshot(dir), before, 'doctor wrote nothing');
});

test('self-signed that no longer names a current address: a warning that start re-makes it', async (t) => {
  const dir = tempDir(t);
  await ensureSelfSignedCert({ dir: join(dir, 'tls'), dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const names = (await doctor(dir, { tls: { mode: 'self-signed' } })).get('tls.names')!;
  assert.equal(names.status, 'warn');
  assert.match(names.fix![0], /chatroom start --dir .* re-makes the certificate/);
});

test('files: fewer than 21 days left warns, an expired certificate and a key of another certificate fail', async (t) => {
  const dir = tempDir(t);
  const soon = opensslPair('chat.example.org', 10);
  const other = opensslPair('other.example.org', 90);
  writeFileSync(join(dir, 'soon.crt'), soon.cert);
  writeFileSync(join(dir, 'soon.key'), soon.key);
  writeFileSync(join(dir, 'other.key'), other.key);
  const old = await ensureSelfSignedCert({ dir: join(dir, 'old'), dnsNames: ['chat.example.org'], ipAddresses: [], now: Date.parse('2020-01-01T00:00:00Z') });

  const near = await doctor(dir, { tls: { mode: 'files', certFile: 'soon.crt', keyFile: 'soon.key' } });
  assert.equal(near.get('tls.expiry')?.status, 'warn');
  assert.match(near.get('tls.expiry')!.value, /\(9 days left\)|\(10 days left\)/);
  assert.match(near.get('tls.expiry')!.fix![0], /reloads it by itself/);
  assert.equal(near.get('tls.key')?.status, 'ok');
  assert.equal(near.get('tls.chain')?.status, 'warn', 'a lone self-signed file is not a chain browsers trust');

  const expired = await doctor(dir, { tls: { mode: 'files', certFile: old.certPath, keyFile: old.keyPath } });
  assert.equal(expired.get('tls.expiry')?.status, 'fail');
  assert.match(expired.get('tls.expiry')!.value, /^expired on 2020-12-31/);

  const wrongKey = await doctor(dir, { tls: { mode: 'files', certFile: 'soon.crt', keyFile: 'other.key', domain: 'chat.example.org' } });
  assert.equal(wrongKey.get('tls.key')?.status, 'fail');
  assert.equal(wrongKey.get('tls.names')?.status, 'ok', 'the certificate names the configured domain');

  const missing = await doctor(dir, { tls: { mode: 'files', certFile: 'nope.crt', keyFile: 'nope.key' } });
  assert.equal(missing.get('tls.certificate')?.status, 'fail');
});

test('acme: the last failed order with its reason, and whether port 80 reaches the HTTP port', async (t) => {
  const dir = tempDir(t);
  const acme = { mode: 'acme' as const, domain: 'chat.example.org' };
  writeLastFailure(acmePaths(dir), { at: '2026-12-01T10:00:00.000Z', domain: 'chat.example.org', directoryUrl: 'https://ca.test/dir', reason: 'Connection refused on port 80' });
  const before = snapshot(dir);

  const unknown = await doctor(dir, { tls: acme });
  assert.equal(unknown.get('tls.mode')?.value, 'acme: chat.example.org from acme-v02.api.letsencrypt.org');
  assert.equal(unknown.get('tls.certificate')?.status, 'warn');
  const order = unknown.get('tls.acme.lastOrder')!;
  assert.equal(order.status, 'fail', 'no certificate and a failed order');
  assert.equal(order.value, 'failed 2026-12-01 10:00 UTC: Connection refused on port 80');
  assert.match(order.fix![0], /port 80 from the internet reaches port 8080/);
  assert.equal(unknown.get('tls.acme.httpPort')?.status, 'warn');

  assert.equal((await doctor(dir, { tls: acme }, { httpPortReachable: false })).get('tls.acme.httpPort')?.status, 'fail');
  assert.equal((await doctor(dir, { tls: acme }, { httpPortReachable: true })).get('tls.acme.httpPort')?.status, 'ok');
  assert.equal(snapshot(dir), before, 'doctor wrote nothing');
});

test('off: only the mode line, saying which proxies are trusted', async (t) => {
  const checks = await doctor(tempDir(t), { host: '0.0.0.0', behindProxy: true, trustedProxies: ['10.0.0.2'], tls: { mode: 'off' } });
  assert.deepEqual([...checks.keys()], ['tls.mode']);
  assert.match(checks.get('tls.mode')!.value, /reverse proxy .* from 10\.0\.0\.2/);
});
