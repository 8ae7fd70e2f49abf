/**
 * Reading certificates with node:crypto alone: split a PEM bundle, check that a key belongs to the
 * leaf, and walk the chain. Shared by `files` mode, ACME and the doctor's TLS section.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { rootCertificates } from 'node:tls';

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The certificates of a PEM bundle, in file order (leaf first by convention). */
export function splitPem(text: string): string[] {
  return text.match(PEM_CERT) ?? [];
}

/** How a certificate chain ends. */
export type ChainEnd =
  /** The last certificate is issued by a root this computer trusts (Node's bundled roots or `extraRoots`). */
  | 'trusted-root'
  /** The last certificate signed itself: a self-signed leaf or a root that was included. */
  | 'self-signed'
  /** Every link verifies but the issuer of the last one is unknown here (missing intermediate, or a private/test CA). */
  | 'unknown-issuer'
  /** A certificate is not signed by the next one: the bundle is in the wrong order or mixed up. */
  | 'broken';

export interface CertificateFacts {
  subject: string;
  issuer: string;
  /** SAN entries as "DNS:name" / "IP Address:addr". */
  names: string[];
  /** ms since the Unix epoch. */
  validFrom: number;
  validTo: number;
  /** SHA-256 of the leaf's DER, colon hex. */
  fingerprint256: string;
  serialNumber: string;
  /** Certificates in the bundle. */
  chainLength: number;
  chainEnd: ChainEnd;
}

/** Facts about a PEM bundle's leaf and chain; throws when the text holds no certificate. */
export function describeChain(pem: string, extraRoots: string[] = []): CertificateFacts {
  const certs = splitPem(pem).map((p) => new X509Certificate(p));
  const leaf = certs[0];
  if (!leaf) throw new Error('no PEM certificate (-----BEGIN CERTIFICATE-----) in the text');
  return {
    subject: leaf.subject,
    issuer: leaf.issuer,
    names: (leaf.subjectAltName ?? '').split(', ').filter(Boolean),
    validFrom: Date.parse(leaf.validFrom),
    validTo: Date.parse(leaf.validTo),
    fingerprint256: leaf.fingerprint256,
    serialNumber: leaf.serialNumber,
    chainLength: certs.length,
    chainEnd: chainEnd(certs, extraRoots),
  };
}

function chainEnd(certs: X509Certificate[], extraRoots: string[]): ChainEnd {
  for (let i = 0; i + 1 < certs.length; i++) {
    if (!signedBy(certs[i], certs[i + 1])) return 'broken';
  }
  const last = certs[certs.length - 1];
  // Not checkIssued(last): OpenSSL also wants keyCertSign on an issuer, which a self-signed leaf lacks.
  if (last.subject === last.issuer && verifies(last, last)) return 'self-signed';
  for (const pem of [...extraRoots, ...rootCertificates]) {
    let root: X509Certificate;
    try {
      root = new X509Certificate(pem);
    } catch {
      continue;
    }
    if (signedBy(last, root)) return 'trusted-root';
  }
  return 'unknown-issuer';
}

function signedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

function verifies(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/** Parses a PEM private key; throws with the parser's reason. */
export function parseKey(pem: string): KeyObject {
  return createPrivateKey(pem);
}

/** True when `keyPem` is the private key of the bundle's first certificate. */
export function keyMatchesLeaf(certPem: string, keyPem: string): boolean {
  const leaf = splitPem(certPem)[0];
  if (!leaf) return false;
  try {
    return new X509Certificate(leaf).checkPrivateKey(parseKey(keyPem));
  } catch {
    return false;
  }
}

/** True when the leaf covers `host` (a DNS name or an IP address). */
export function leafCovers(certPem: string, host: string): boolean {
  const leaf = splitPem(certPem)[0];
  if (!leaf) return false;
  const cert = new X509Certificate(leaf);
  return /^[\d.]+$|:/.test(host) ? cert.checkIP(host) !== undefined : cert.checkHost(host) !== undefined;
}
