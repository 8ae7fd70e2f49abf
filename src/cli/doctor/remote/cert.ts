/**
 * The certificate the server serves (or would serve), read without creating or ordering anything:
 * the phone must see exactly what chatroom's users see, warning included.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig } from '../../../config/schema.ts';
import { acmePaths, readStoredCertificate } from '../../../tls/acme-store.ts';
import { certFilePaths } from '../../../tls/files.ts';

export interface ServingPair {
  cert: string;
  key: string;
  /** Where it came from, for the message. */
  source: 'self-signed' | 'acme' | 'files';
}

function readPair(certPath: string, keyPath: string): { cert: string; key: string } | null {
  if (!existsSync(certPath) || !existsSync(keyPath)) return null;
  try {
    return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
  } catch {
    return null;
  }
}

/** Null when there is none yet (self-signed before the first init/start, acme before the first order). */
export function readServingPair(config: ResolvedConfig): ServingPair | null {
  const selfSigned = () => {
    const pair = readPair(join(config.dataPath, 'tls', 'self-signed.crt'), join(config.dataPath, 'tls', 'self-signed.key'));
    return pair ? { ...pair, source: 'self-signed' as const } : null;
  };
  if (config.tls.mode === 'files') {
    const { certPath, keyPath } = certFilePaths(config);
    const pair = readPair(certPath, keyPath);
    return pair ? { ...pair, source: 'files' } : null;
  }
  if (config.tls.mode === 'acme') {
    const stored = readStoredCertificate(acmePaths(config.dataPath));
    // Until the first order succeeds, start serves a self-signed fallback.
    return stored ? { ...stored, source: 'acme' } : selfSigned();
  }
  return selfSigned();
}
