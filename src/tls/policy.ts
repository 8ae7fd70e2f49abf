/**
 * The TLS settings every HTTPS listener uses: TLS 1.2 and 1.3 only, forward-secret AEAD suites only
 * (ECDHE with AES-GCM or ChaCha20-Poly1305; TLS 1.3's three suites are all of that kind), the
 * server's order wins, no renegotiation and no compression. testssl.sh checks the result
 * (test/tls/testssl.test.ts).
 */
import { constants } from 'node:crypto';
import type { SecureContextOptions, TlsOptions } from 'node:tls';

/** TLS 1.2 suites, strongest and fastest first: ECDSA certificates (ours), then RSA (a `files` certificate may be RSA). */
const TLS12_SUITES = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-RSA-AES256-GCM-SHA384',
];
/** Listed explicitly so the set never depends on the OpenSSL build's defaults. */
const TLS13_SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_256_GCM_SHA384'];

/** Options for https.createServer / setSecureContext, without the key and certificate. */
export const TLS_SERVER_OPTIONS: Readonly<TlsOptions & SecureContextOptions> = Object.freeze({
  minVersion: 'TLSv1.2',
  maxVersion: 'TLSv1.3',
  ciphers: [...TLS13_SUITES, ...TLS12_SUITES].join(':'),
  honorCipherOrder: true,
  // X25519 first; P-256 and P-384 for clients without it.
  ecdhCurve: 'X25519:prime256v1:secp384r1',
  // Renegotiation is a DoS lever and unused by browsers; compression is CRIME. OpenSSL 3 builds
  // have compression off already: the flag keeps it off on any build.
  secureOptions: constants.SSL_OP_NO_RENEGOTIATION | constants.SSL_OP_NO_COMPRESSION,
});

/** A certificate and its key, PEM. */
export interface KeyPair {
  cert: string;
  key: string;
}

/** Full options for a listener or a live certificate swap (https.Server#setSecureContext). */
export function secureContextOptions(pair: KeyPair): TlsOptions & SecureContextOptions {
  return { ...TLS_SERVER_OPTIONS, cert: pair.cert, key: pair.key };
}
