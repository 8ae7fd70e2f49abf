// Shared helpers for the TLS tests: temp dirs, openssl-made pairs, and reading the certificate a server presents.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type PeerCertificate } from 'node:tls';
import type { TestContext } from 'node:test';
import { secureContextOptions, type KeyPair } from '../../src/tls/policy.ts';

/** A fresh temp folder removed after the test. */
export function tempDir(t: TestContext, prefix = 'chatroom-tls-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // A server closed by a later hook may still be writing here (WAL, -shm): remove it at exit.
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    }
  });
  return dir;
}

/** A self-signed P-256 pair from openssl, valid `days`, for `cn`. */
export function opensslPair(cn = 'files.home.test', days = 30): KeyPair {
  const dir = mkdtempSync(join(tmpdir(), 'chatroom-openssl-'));
  try {
    const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn}`];
    execFileSync('openssl', [...args, '-days', String(days), '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An HTTPS server on 127.0.0.1:0 with our TLS settings, answering "ok"; closed after the test. */
export async function httpsServer(t: TestContext, pair: KeyPair): Promise<{ server: Server; port: number }> {
  const server = createServer(secureContextOptions(pair), (_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return { server, port: (server.address() as { port: number }).port };
}

/** The leaf certificate 127.0.0.1:port presents for `servername` (no verification: we only look). */
export function presented(port: number, servername = 'localhost'): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      resolve(cert);
    });
    socket.on('error', reject);
  });
}

/** Collects progress lines; waitFor resolves with the first line from index `since` on that matches `re`. */
export function lineCollector(): { push: (line: string) => void; lines: string[]; waitFor: (re: RegExp, since?: number, timeoutMs?: number) => Promise<string> } {
  const lines: string[] = [];
  const waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  return {
    lines,
    push(line) {
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.re.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    },
    waitFor(re, since = 0, timeoutMs = 20_000) {
      const seen = lines.slice(since).find((l) => re.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}; lines:\n${lines.join('\n')}`)), timeoutMs);
        waiters.push({ re, resolve: (l) => { clearTimeout(timer); resolve(l); } });
      });
    },
  };
}
