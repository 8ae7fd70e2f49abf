// testssl.sh (Debian package) against a running self-signed server on 127.0.0.1: protocols, cipher categories, forward secrecy, vulnerabilities, server defaults and headers; fails on any finding of severity MEDIUM or above other than the ones a self-signed certificate has by nature.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig, withDefaults } from '../../src/config/defaults.ts';
import { startServer } from '../../src/server/listen.ts';
import { requirementsSkip } from '../helpers/requires.ts';
import { tempDir } from './helpers.ts';

const TESTSSL = { pkg: 'testssl.sh', binary: '/usr/bin/testssl' };
const skip = requirementsSkip([TESTSSL]);

/** Findings a self-signed certificate has by nature, each with why it is acceptable. */
const ALLOWED_FOR_SELF_SIGNED: Record<string, string> = {
  cert_chain_of_trust: 'no CA vouches for a self-signed certificate: people compare its SHA-256 fingerprint instead',
  cert_revocation: 'a self-signed certificate has no CA to publish a CRL or an OCSP responder',
};

const BLOCKING = new Set(['MEDIUM', 'HIGH', 'CRITICAL']);

interface Finding {
  id: string;
  severity: string;
  finding: string;
}

function runTestssl(args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(TESTSSL.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout.on('data', (c: Buffer) => (output += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => {
      if (proc.pid) process.kill(proc.pid, 'SIGKILL');
      reject(new Error(`testssl ran longer than ${timeoutMs} ms:\n${output.slice(-2000)}`));
    }, timeoutMs);
    proc.on('error', reject);
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

test('testssl.sh finds nothing of severity MEDIUM or above beyond what self-signing implies', { skip, timeout: 300_000 }, async (t) => {
  const dir = tempDir(t);
  const config = resolveConfig(withDefaults({ host: '127.0.0.1', port: 0, httpPort: 0, upnp: false, tls: { mode: 'self-signed' } }), dir);
  const server = await startServer(config, { saltKey: randomBytes(32).toString('base64'), addressKey: randomBytes(32).toString('base64') });
  t.after(() => server.close());

  const jsonFile = join(dir, 'testssl.json');
  const started = Date.now();
  const { code, output } = await runTestssl(
    [
      '--quiet', '--color', '0', '--warnings', 'off',
      // Loopback only: no DNS lookups, the address given.
      '--nodns', 'none', '--ip', '127.0.0.1',
      '--connect-timeout', '5', '--openssl-timeout', '5',
      '--protocols', '--std', '--fs', '--vulnerable', '--server-defaults', '--headers',
      '--jsonfile', jsonFile,
      `https://127.0.0.1:${server.port}/`,
    ],
    240_000,
  );
  const findings = JSON.parse(readFileSync(jsonFile, 'utf8')) as Finding[];
  assert.ok(findings.length > 20, `testssl produced findings (exit ${code}):\n${output.slice(-2000)}`);
  const byId = new Map(findings.map((f) => [f.id, f]));

  // The protocol and cipher policy, as testssl sees it.
  for (const id of ['SSLv2', 'SSLv3', 'TLS1', 'TLS1_1']) assert.match(byId.get(id)?.finding ?? '', /not offered/, id);
  assert.match(byId.get('TLS1_2')?.finding ?? '', /^offered/);
  assert.match(byId.get('TLS1_3')?.finding ?? '', /^offered/);
  for (const id of ['cipherlist_NULL', 'cipherlist_aNULL', 'cipherlist_EXPORT', 'cipherlist_LOW', 'cipherlist_3DES_IDEA', 'cipherlist_AVERAGE']) {
    assert.match(byId.get(id)?.finding ?? '', /not offered/, id);
  }
  assert.equal(byId.get('HSTS')?.finding, 'not offered', 'no HSTS for a self-signed certificate (see security-headers.ts)');

  const blocking = findings.filter((f) => BLOCKING.has(f.severity) && !(f.id in ALLOWED_FOR_SELF_SIGNED));
  assert.deepEqual(blocking.map((f) => `${f.severity} ${f.id}: ${f.finding}`), [], 'findings of severity MEDIUM or above');
  const counts: Record<string, number> = {};
  for (const f of findings) counts[f.severity] = (counts[f.severity] ?? 0) + 1;
  t.diagnostic(`testssl: ${findings.length} findings in ${Math.round((Date.now() - started) / 1000)} s, by severity ${JSON.stringify(counts)}; allowed: ${findings.filter((f) => f.id in ALLOWED_FOR_SELF_SIGNED).map((f) => `${f.severity} ${f.id}`).join(', ')}`);
});
