// Runs Debian's pebble (Let's Encrypt's test CA) with pebble-challtestsrv as its DNS server, on loopback ports picked per run; stopped by PID after the test.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { requirementsSkip } from '../helpers/requires.ts';

export const PEBBLE = { pkg: 'pebble', binary: '/usr/bin/pebble' };
export const CHALLTESTSRV = { pkg: 'pebble', binary: '/usr/bin/pebble-challtestsrv' };

/** The reason to skip ACME tests, or undefined. */
export function pebbleSkip(): string | undefined {
  return requirementsSkip([PEBBLE, CHALLTESTSRV]);
}

export interface Pebble {
  /** https://127.0.0.1:<port>/dir */
  directoryUrl: string;
  /** PEM file of the throwaway CA that signed pebble's own HTTPS certificate (for tls.acme.caFile). */
  apiCaFile: string;
  /** The root that signs issued certificates (new per pebble run), from the management port. */
  root(): Promise<string>;
  intermediate(): Promise<string>;
}

export interface PebbleOptions {
  /** Where pebble sends HTTP-01 validation requests (our HTTP port). */
  httpPort: number;
  /** Lifetime of issued certificates, seconds (pebble's default is 5 years). */
  validitySeconds?: number;
  /** Names pebble refuses to issue for (rejectedIdentifier). */
  blocklist?: string[];
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** Starts challtestsrv (every A query → 127.0.0.1) and pebble in `dir`; both stopped after the test. */
export async function startPebble(t: TestContext, dir: string, opts: PebbleOptions): Promise<Pebble> {
  // pebble's own HTTPS API needs a certificate: Debian's package ships none.
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=pebble API test CA', '-keyout', join(dir, 'api-ca.key'), '-out', join(dir, 'api-ca.pem'));
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=localhost', '-keyout', join(dir, 'api.key'), '-out', join(dir, 'api.csr'));
  writeFileSync(join(dir, 'api.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', join(dir, 'api.csr'), '-CA', join(dir, 'api-ca.pem'), '-CAkey', join(dir, 'api-ca.key'), '-CAcreateserial', '-days', '2', '-extfile', join(dir, 'api.ext'), '-out', join(dir, 'api.pem'));

  const [acmePort, mgmtPort, dnsPort, dnsMgmtPort] = [await freeTcpPort(), await freeTcpPort(), await freeUdpPort(), await freeTcpPort()];
  writeFileSync(
    join(dir, 'pebble.json'),
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${acmePort}`,
        managementListenAddress: `127.0.0.1:${mgmtPort}`,
        certificate: join(dir, 'api.pem'),
        privateKey: join(dir, 'api.key'),
        httpPort: opts.httpPort,
        tlsPort: await freeTcpPort(),
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
        domainBlocklist: opts.blocklist ?? [],
        ...(opts.validitySeconds ? { certificateValidityPeriod: opts.validitySeconds } : {}),
      },
    }),
  );

  const dns = run(t, CHALLTESTSRV.binary, [
    '-dns01', `127.0.0.1:${dnsPort}`, '-http01', '', '-https01', '', '-tlsalpn01', '',
    '-management', `127.0.0.1:${dnsMgmtPort}`, '-defaultIPv4', '127.0.0.1', '-defaultIPv6', '',
  ], {});
  await dns.ready(/Starting management server/);
  const pebble = run(t, PEBBLE.binary, ['-config', join(dir, 'pebble.json'), '-dnsserver', `127.0.0.1:${dnsPort}`, '-strict=false'], {
    // No random 0-15 s pause before validating, no random nonce rejections: tests stay quick and deterministic.
    PEBBLE_VA_NOSLEEP: '1',
    PEBBLE_WFE_NONCEREJECT: '0',
  });
  await pebble.ready(/Listening on: 127\.0\.0\.1:\d+/);

  const apiCa = join(dir, 'api-ca.pem');
  const get = (path: string) => getText(`https://127.0.0.1:${mgmtPort}${path}`, apiCa);
  return { directoryUrl: `https://127.0.0.1:${acmePort}/dir`, apiCaFile: apiCa, root: () => get('/roots/0'), intermediate: () => get('/intermediates/0') };
}

function run(t: TestContext, binary: string, args: string[], env: Record<string, string>): { proc: ChildProcess; ready: (re: RegExp) => Promise<void> } {
  const proc = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  const listeners = new Set<() => void>();
  const feed = (chunk: Buffer) => {
    out += chunk.toString();
    for (const l of listeners) l();
  };
  proc.stdout!.on('data', feed);
  proc.stderr!.on('data', feed);
  t.after(() => {
    if (proc.exitCode === null && proc.signalCode === null && proc.pid) process.kill(proc.pid, 'SIGKILL');
  });
  return {
    proc,
    ready: (re) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (!re.test(out)) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => reject(new Error(`${binary} did not start:\n${out}`)), 15_000);
        proc.once('exit', (code) => reject(new Error(`${binary} exited with ${code}:\n${out}`)));
        listeners.add(check);
        check();
      }),
  };
}

/** GET over HTTPS trusting exactly `caFile`'s CA. */
function getText(url: string, caFile: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: readCa(caFile), agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

function readCa(file: string): string {
  return readFileSync(file, 'utf8');
}
