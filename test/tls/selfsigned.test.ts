// Self-signed certificates: ECDSA P-256 + SHA-256, server-only extensions, SANs for names and addresses, key file 0600, reuse, and regeneration on SAN change or near expiry.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import 'reflect-metadata';
import { ensureSelfSignedCert, subjectAltNames, RENEW_BEFORE_DAYS } from '../../src/tls/selfsigned.ts';
import * as x509 from '@peculiar/x509';
import { certNames, localHostnames } from '../../src/tls/addresses.ts';

const DAY_MS = 86_400_000;

function tlsDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'chatroom-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'tls');
}

const names = { dnsNames: ['localhost', 'myhost', 'myhost.local'], ipAddresses: ['127.0.0.1', '::1', '192.168.1.20', '2001:db8::20'] };

test('a new certificate is ECDSA P-256 signed with SHA-256, for servers only, valid about a year', async (t) => {
  const dir = tlsDir(t);
  const now = Date.now();
  const c = await ensureSelfSignedCert({ dir, ...names, now });
  assert.equal(c.regenerated, true);
  const cert = new X509Certificate(c.cert);
  assert.equal(cert.publicKey.asymmetricKeyType, 'ec');
  assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.ok(cert.verify(cert.publicKey), 'self-signature verifies');
  assert.equal(cert.ca, false);
  assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'extended key usage: serverAuth only');
  const parsed = new x509.X509Certificate(c.cert);
  assert.deepEqual(parsed.signatureAlgorithm, { name: 'ECDSA', hash: { name: 'SHA-256' } });
  const ku = parsed.getExtension(x509.KeyUsagesExtension);
  assert.equal(ku?.usages, x509.KeyUsageFlags.digitalSignature);
  assert.equal(parsed.getExtension(x509.BasicConstraintsExtension)?.critical, true);
  const days = (Date.parse(cert.validTo) - now) / DAY_MS;
  assert.ok(days > 300 && days <= 398, `validity ${days} days`);
  assert.ok(Date.parse(cert.validFrom) <= now);
  assert.equal(c.fingerprint256, cert.fingerprint256);
  assert.match(c.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  assert.equal(statSync(c.keyPath).mode & 0o777, 0o600, 'the key is readable only by its owner');
  assert.ok(cert.checkPrivateKey((await import('node:crypto')).createPrivateKey(c.key)));
});

test('SANs hold every name and address', async (t) => {
  const c = await ensureSelfSignedCert({ dir: tlsDir(t), ...names });
  assert.deepEqual(subjectAltNames(c.cert), ['DNS:localhost', 'DNS:myhost', 'DNS:myhost.local', 'IP Address:127.0.0.1', 'IP Address:192.168.1.20', 'IP Address:2001:db8::20', 'IP Address:::1'].sort());
  const cert = new X509Certificate(c.cert);
  assert.equal(cert.checkHost('localhost'), 'localhost');
  assert.equal(cert.checkIP('192.168.1.20'), '192.168.1.20');
  assert.equal(cert.checkIP('::1'), '::1');
  assert.equal(cert.checkIP('10.0.0.1'), undefined);
});

test("certNames covers this computer: localhost, its hostname, <hostname>.local, loopback and LAN addresses", () => {
  const n = certNames({ host: '0.0.0.0', tls: { domain: 'chat.example.org' } });
  for (const d of localHostnames()) assert.ok(n.dnsNames.includes(d), d);
  assert.ok(n.dnsNames.includes('localhost'));
  assert.ok(n.dnsNames.includes('chat.example.org'));
  assert.ok(n.ipAddresses.includes('127.0.0.1') && n.ipAddresses.includes('::1'));
});

test('the stored certificate is reused while it fits', async (t) => {
  const dir = tlsDir(t);
  const a = await ensureSelfSignedCert({ dir, ...names });
  const b = await ensureSelfSignedCert({ dir, dnsNames: [...names.dnsNames].reverse(), ipAddresses: [...names.ipAddresses].reverse() });
  assert.equal(b.regenerated, false);
  assert.equal(b.fingerprint256, a.fingerprint256);
  // 2001:db8:0::20 is the same address written differently.
  const c = await ensureSelfSignedCert({ dir, dnsNames: names.dnsNames, ipAddresses: ['127.0.0.1', '::1', '192.168.1.20', '2001:db8:0::20'] });
  assert.equal(c.regenerated, false);
});

test('a changed address set, near expiry, or a damaged file makes a new certificate', async (t) => {
  const dir = tlsDir(t);
  const a = await ensureSelfSignedCert({ dir, ...names });
  const moved = await ensureSelfSignedCert({ dir, dnsNames: names.dnsNames, ipAddresses: ['127.0.0.1', '::1', '192.168.1.99'] });
  assert.equal(moved.regenerated, true);
  assert.notEqual(moved.fingerprint256, a.fingerprint256);
  assert.ok(subjectAltNames(moved.cert).includes('IP Address:192.168.1.99'));
  assert.ok(!subjectAltNames(moved.cert).includes('IP Address:192.168.1.20'));

  const expiry = Date.parse(new X509Certificate(moved.cert).validTo);
  const stillFine = await ensureSelfSignedCert({ dir, dnsNames: names.dnsNames, ipAddresses: ['127.0.0.1', '::1', '192.168.1.99'], now: expiry - (RENEW_BEFORE_DAYS + 1) * DAY_MS });
  assert.equal(stillFine.regenerated, false);
  const nearExpiry = await ensureSelfSignedCert({ dir, dnsNames: names.dnsNames, ipAddresses: ['127.0.0.1', '::1', '192.168.1.99'], now: expiry - (RENEW_BEFORE_DAYS - 1) * DAY_MS });
  assert.equal(nearExpiry.regenerated, true);

  writeFileSync(nearExpiry.certPath, 'not a certificate');
  const repaired = await ensureSelfSignedCert({ dir, ...names });
  assert.equal(repaired.regenerated, true);
  assert.ok(new X509Certificate(repaired.cert));
});
