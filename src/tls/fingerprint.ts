/**
 * The certificate fingerprint as it travels in invite links: in the URL fragment
 * (`#sha256=<64 hex digits>`), which browsers never send to a server, so it cannot end up in a
 * server or proxy log; the sign-up page shows it for comparison with what the browser reports.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** `#sha256=…` for a colon-hex SHA-256 fingerprint. */
export function fingerprintFragment(fingerprint256: string): string {
  return `sha256=${fingerprint256.replace(/:/g, '').toUpperCase()}`;
}

/** The fingerprint of the self-signed certificate stored for this config, or undefined (another mode, or none made yet). */
export function storedSelfSignedFingerprint(config: { dataPath: string; tls: { mode: string } }): string | undefined {
  if (config.tls.mode !== 'self-signed') return undefined;
  try {
    return new X509Certificate(readFileSync(join(config.dataPath, 'tls', 'self-signed.crt'))).fingerprint256;
  } catch {
    return undefined;
  }
}
