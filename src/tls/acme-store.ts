/**
 * What ACME mode keeps in `<dataPath>/tls/acme/`: the account key (per directory URL), the last
 * good certificate with its key, and the reason the last order failed (cleared by a success).
 * The doctor reads these files too; only acme.ts writes them.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface AcmePaths {
  dir: string;
  accountKey: string;
  account: string;
  cert: string;
  certKey: string;
  lastFailure: string;
}

/** File locations under `<dataPath>/tls/acme`. */
export function acmePaths(dataPath: string): AcmePaths {
  const dir = join(dataPath, 'tls', 'acme');
  return {
    dir,
    accountKey: join(dir, 'account.key'),
    account: join(dir, 'account.json'),
    cert: join(dir, 'certificate.pem'),
    certKey: join(dir, 'certificate.key'),
    lastFailure: join(dir, 'last-failure.json'),
  };
}

/** The account this key belongs to: keys are per CA, so a changed directory URL means a new account. */
export interface AcmeAccount {
  directoryUrl: string;
  accountUrl?: string;
}

/** Why the last order failed; shown at start and by `chatroom doctor`. */
export interface AcmeFailure {
  /** ISO 8601 time of the failure. */
  at: string;
  domain: string;
  directoryUrl: string;
  /** The CA's or the network's words, addresses removed. */
  reason: string;
}

/** The stored certificate (full chain) and key, or null. */
export function readStoredCertificate(paths: AcmePaths): { cert: string; key: string } | null {
  if (!existsSync(paths.cert) || !existsSync(paths.certKey)) return null;
  try {
    return { cert: readFileSync(paths.cert, 'utf8'), key: readFileSync(paths.certKey, 'utf8') };
  } catch {
    return null;
  }
}

export function readLastFailure(paths: AcmePaths): AcmeFailure | null {
  return readJson<AcmeFailure>(paths.lastFailure);
}

export function readAccount(paths: AcmePaths): { key: string; account: AcmeAccount } | null {
  const account = readJson<AcmeAccount>(paths.account);
  if (!account || !existsSync(paths.accountKey)) return null;
  try {
    return { key: readFileSync(paths.accountKey, 'utf8'), account };
  } catch {
    return null;
  }
}

export function writeAccount(paths: AcmePaths, key: string, account: AcmeAccount): void {
  ensureDir(paths);
  writeAtomically(paths.accountKey, key, 0o600);
  writeAtomically(paths.account, JSON.stringify(account, null, 2) + '\n', 0o600);
}

/** Key first, then the certificate: a crash in between leaves the old certificate, which no longer matches and is re-ordered. */
export function writeCertificate(paths: AcmePaths, cert: string, key: string): void {
  ensureDir(paths);
  writeAtomically(paths.certKey, key, 0o600);
  writeAtomically(paths.cert, cert, 0o644);
}

export function writeLastFailure(paths: AcmePaths, failure: AcmeFailure): void {
  ensureDir(paths);
  writeAtomically(paths.lastFailure, JSON.stringify(failure, null, 2) + '\n', 0o600);
}

export function clearLastFailure(paths: AcmePaths): void {
  rmSync(paths.lastFailure, { force: true });
}

function ensureDir(paths: AcmePaths): void {
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
}

function readJson<T>(path: string): T | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return null;
  }
}

function writeAtomically(path: string, text: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, path);
}
