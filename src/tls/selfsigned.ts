/**
 * A self-signed certificate for LAN use: ECDSA P-256 signed with SHA-256, SANs for every name and
 * address this computer answers on. Kept in `<dataPath>/tls/self-signed.{crt,key}` and reused, so
 * the fingerprint people compared stays the same across restarts; regenerated when the SAN set
 * changes (a new DHCP address) or it expires within 30 days.
 */
import { X509Certificate as NodeX509, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as X509 from '@peculiar/x509';

/** Validity of a new certificate, days (browsers cap server certificates at 398). */
export const VALIDITY_DAYS = 365;
/** Regenerate when fewer than this many days are left, days. */
export const RENEW_BEFORE_DAYS = 30;
const DAY_MS = 86_400_000;

export interface SelfSignedOptions {
  /** Folder for self-signed.crt and self-signed.key (created 0700). */
  dir: string;
  dnsNames: string[];
  ipAddresses: string[];
  /** ms since the Unix epoch; tests move time. */
  now?: number;
}

export interface SelfSignedCert {
  /** PEM. */
  cert: string;
  /** PEM (PKCS#8). */
  key: string;
  /** SHA-256 of the DER certificate, colon-separated hex (what browsers show). */
  fingerprint256: string;
  /** True when this call created a new certificate. */
  regenerated: boolean;
  certPath: string;
  keyPath: string;
}

/** Returns the stored certificate if it still fits, otherwise makes and stores a new one. */
export async function ensureSelfSignedCert(opts: SelfSignedOptions): Promise<SelfSignedCert> {
  const now = opts.now ?? Date.now();
  const certPath = join(opts.dir, 'self-signed.crt');
  const keyPath = join(opts.dir, 'self-signed.key');
  const wanted = sanSet(opts.dnsNames, opts.ipAddresses);

  const existing = readExisting(certPath, keyPath);
  if (existing && fits(existing.parsed, existing.key, wanted, now)) {
    return { cert: existing.cert, key: existing.key, fingerprint256: existing.parsed.fingerprint256, regenerated: false, certPath, keyPath };
  }

  const { cert, key } = await generate(opts.dnsNames, opts.ipAddresses, now);
  mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  writeAtomically(keyPath, key, 0o600);
  writeAtomically(certPath, cert, 0o644);
  return { cert, key, fingerprint256: new NodeX509(cert).fingerprint256, regenerated: true, certPath, keyPath };
}

/** The SAN entries as Node prints them ("DNS:localhost", "IP Address:127.0.0.1"), sorted. */
export function subjectAltNames(cert: string): string[] {
  const san = new NodeX509(cert).subjectAltName ?? '';
  return san.split(', ').filter(Boolean).map(normalizeSanEntry).sort();
}

function sanSet(dnsNames: string[], ipAddresses: string[]): string[] {
  const entries = [...dnsNames.map((d) => `DNS:${d.toLowerCase()}`), ...ipAddresses.map((ip) => `IP Address:${canonicalIp(ip)}`)];
  return [...new Set(entries)].sort();
}

function readExisting(certPath: string, keyPath: string): { cert: string; key: string; parsed: NodeX509 } | null {
  if (!existsSync(certPath) || !existsSync(keyPath)) return null;
  try {
    const cert = readFileSync(certPath, 'utf8');
    const key = readFileSync(keyPath, 'utf8');
    return { cert, key, parsed: new NodeX509(cert) };
  } catch {
    // An unreadable or corrupt pair is replaced by a new one.
    return null;
  }
}

function fits(parsed: NodeX509, keyPem: string, wanted: string[], now: number): boolean {
  if (Date.parse(parsed.validTo) - now < RENEW_BEFORE_DAYS * DAY_MS) return false;
  if (Date.parse(parsed.validFrom) > now) return false;
  try {
    if (!parsed.checkPrivateKey(createPrivateKey(keyPem))) return false;
  } catch {
    return false;
  }
  const have = subjectAltNames(parsed.toString());
  return have.length === wanted.length && have.every((v, i) => v === wanted[i]);
}

/** @peculiar/x509 takes ~0.5 s to load: only pay for it when a certificate is actually made. */
async function loadX509(): Promise<typeof X509> {
  // tsyringe (a dependency of @peculiar/x509) needs the Reflect metadata API at load time.
  await import('reflect-metadata');
  return import('@peculiar/x509');
}

async function generate(dnsNames: string[], ipAddresses: string[], now: number): Promise<{ cert: string; key: string }> {
  const x509 = await loadX509();
  const crypto = webcrypto as unknown as Crypto;
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  // Positive 128-bit serial: clear the top bit so DER does not read it as negative.
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  const names: X509.JsonGeneralName[] = [
    ...[...new Set(dnsNames.map((d) => d.toLowerCase()))].map((value) => ({ type: 'dns' as const, value })),
    ...[...new Set(ipAddresses.map(canonicalIp))].map((value) => ({ type: 'ip' as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial.toString('hex'),
      name: 'CN=chatroom (self-signed)',
      // An hour of slack for clocks on phones that run a little behind, ms.
      notBefore: new Date(now - 3_600_000),
      notAfter: new Date(now + VALIDITY_DAYS * DAY_MS),
      signingAlgorithm: algorithm,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        new x509.SubjectAlternativeNameExtension(names, false),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
  return { cert: cert.toString('pem') + '\n', key };
}

function writeAtomically(path: string, text: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, path);
}

/** Node prints IPv6 SANs expanded in some versions and keeps DNS case: compare canonical forms. */
function normalizeSanEntry(entry: string): string {
  if (entry.startsWith('IP Address:')) return `IP Address:${canonicalIp(entry.slice('IP Address:'.length))}`;
  if (entry.startsWith('DNS:')) return `DNS:${entry.slice('DNS:'.length).toLowerCase()}`;
  return entry;
}

function canonicalIp(ip: string): string {
  if (!ip.includes(':')) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return ip.toLowerCase();
  }
}
