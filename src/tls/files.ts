/**
 * `tls.mode: files`: the operator's own certificate and key. Checked at start (readable, a key that
 * belongs to the certificate, not expired, chain in order) and re-read when either file changes,
 * e.g. after certbot or another tool renewed them. A bad new pair keeps the old one serving.
 */
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { ChatroomError } from '../shared/errors.ts';
import { describeChain, keyMatchesLeaf, parseKey, type CertificateFacts } from './pem.ts';
import type { KeyPair } from './policy.ts';

/** Wait after the last change event before re-reading, ms: tools write a pair as several events. */
export const RELOAD_DEBOUNCE_MS = 300;

export interface CertFiles extends KeyPair {
  certPath: string;
  keyPath: string;
  facts: CertificateFacts;
  /** Problems worth telling that do not stop serving (e.g. an issuer this computer does not know). */
  warnings: string[];
}

/** Absolute paths of tls.certFile and tls.keyFile (relative ones are relative to the config folder). */
export function certFilePaths(config: { configDir: string; tls: { certFile: string; keyFile: string } }): { certPath: string; keyPath: string } {
  return { certPath: resolve(config.configDir, config.tls.certFile), keyPath: resolve(config.configDir, config.tls.keyFile) };
}

/** Reads and checks the pair; throws ChatroomError CONFIG_INVALID saying what is wrong and how to fix it. */
export function readCertFiles(certPath: string, keyPath: string, now = Date.now()): CertFiles {
  const cert = readText(certPath, 'tls.certFile');
  const key = readText(keyPath, 'tls.keyFile');
  let facts: CertificateFacts;
  try {
    facts = describeChain(cert);
  } catch (err) {
    throw bad('tls.certFile', `${certPath} holds no PEM certificate (${(err as Error).message}). It should start with -----BEGIN CERTIFICATE-----`);
  }
  try {
    parseKey(key);
  } catch (err) {
    const encrypted = /ENCRYPTED/.test(key) || /passphrase|password/i.test((err as Error).message);
    throw bad(
      'tls.keyFile',
      encrypted
        ? `${keyPath} is protected by a passphrase; chatroom needs the key unencrypted: openssl pkey -in ${keyPath} -out ${keyPath}.plain && chmod 600 ${keyPath}.plain`
        : `${keyPath} holds no PEM private key. It should start with -----BEGIN PRIVATE KEY----- (or EC/RSA PRIVATE KEY)`,
    );
  }
  if (!keyMatchesLeaf(cert, key)) {
    throw bad('tls.keyFile', `${keyPath} is not the private key of the certificate in ${certPath} (${facts.subject.replace(/\n/g, ', ')}). Use the key that was created together with this certificate.`);
  }
  if (facts.validTo <= now) {
    throw bad('tls.certFile', `the certificate in ${certPath} expired on ${new Date(facts.validTo).toISOString()}. Renew it and start again (or use tls.mode: acme).`);
  }
  if (facts.validFrom > now) {
    throw bad('tls.certFile', `the certificate in ${certPath} is valid only from ${new Date(facts.validFrom).toISOString()}: check this computer's clock.`);
  }
  if (facts.chainEnd === 'broken') {
    throw bad('tls.certFile', `the certificates in ${certPath} are not a chain: put the server certificate first, then each issuer in order (the "fullchain" file).`);
  }
  const warnings: string[] = [];
  if (facts.chainEnd === 'self-signed' && facts.chainLength === 1) {
    warnings.push(`${certPath}: the certificate signed itself, so browsers warn unless each device trusts it (README, "HTTPS"); tls.mode: self-signed does this for you and prints a fingerprint to compare.`);
  }
  if (facts.chainEnd === 'unknown-issuer') {
    warnings.push(
      `${certPath}: the chain ends at an issuer this computer does not know (${facts.chainLength === 1 ? 'only the server certificate is in the file' : 'a private CA?'}); ` +
        'browsers may show a warning. Use the full-chain file from your certificate authority.',
    );
  }
  return { cert, key, certPath, keyPath, facts, warnings };
}

/**
 * Calls `onChange` (debounced) when either file is written, replaced or renamed into place.
 * Watches the folders, not the files: tools replace a file by renaming a new one over it, which a
 * watch on the old file would miss. Returns a function that stops watching.
 */
export function watchCertFiles(certPath: string, keyPath: string, onChange: () => void, debounceMs = RELOAD_DEBOUNCE_MS): () => void {
  const byDir = new Map<string, Set<string>>();
  for (const p of [certPath, keyPath]) {
    const names = byDir.get(dirname(p)) ?? new Set<string>();
    names.add(basename(p));
    byDir.set(dirname(p), names);
  }
  let timer: NodeJS.Timeout | null = null;
  const fire = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      onChange();
    }, debounceMs);
    timer.unref();
  };
  const watchers: FSWatcher[] = [];
  for (const [dir, names] of byDir) {
    try {
      const w = watch(dir, { persistent: false }, (_event, name) => {
        // Some platforms give no name: then any change in the folder counts.
        if (!name || names.has(String(name))) fire();
      });
      w.on('error', () => {});
      watchers.push(w);
    } catch {
      // A folder that cannot be watched (network file system) just means no live reload.
    }
  }
  return () => {
    if (timer) clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}

function readText(path: string, key: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'there is no such file' : code === 'EACCES' ? 'this user may not read it' : (err as Error).message;
    throw bad(key, `cannot read ${path}: ${why}. Set ${key} to the file's path, e.g. tls: { certFile: /etc/ssl/chat.example.org.crt, keyFile: /etc/ssl/chat.example.org.key }`);
  }
}

function bad(key: string, message: string): ChatroomError {
  return new ChatroomError('CONFIG_INVALID', `\`${key}\`: ${message}`, { key });
}
