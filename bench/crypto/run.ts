/**
 * `node --import tsx bench/crypto/run.ts [--sizes 100,300,1000] [--messages 300] [--no-browser] [--group-timeout-s 600]`
 *
 * Prints the E2EE figures: encrypt+decrypt cost per message in Node and in Chromium (the bundle
 * served from 127.0.0.1 under the app's strict CSP), the passphrase KDF in a browser Worker, time
 * and commit size to add one member to groups of 100 / 300 / 1,000, stored MLS state per device,
 * and the bundle size the crypto folder adds. Each group size runs in its own child process with
 * a timeout (stopped by its PID), so a size that does not finish is reported as such.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { groupFigures, type GroupFigures } from './groups.ts';
import { messageCost, type MessageFigures } from './shared.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const CSP = "default-src 'self'; script-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const fmt = (ms: number) => (ms >= 100 ? `${Math.round(ms)} ms` : `${ms.toFixed(2)} ms`);
const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;

async function bundle(entry: string, outfile: string): Promise<{ raw: number; gzip: number }> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    minify: true,
    platform: 'browser',
    target: 'es2022',
    legalComments: 'none',
    logLevel: 'error',
    tsconfig: join(root, 'tsconfig.json'),
  });
  const bytes = readFileSync(outfile);
  return { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

function serve(dir: string): Promise<{ server: Server; url: string }> {
  const files: Record<string, [string, string]> = {
    '/': ['index.html', 'text/html'],
    '/bench.js': ['bench.js', 'text/javascript'],
    '/worker.js': ['worker.js', 'text/javascript'],
  };
  const server = createServer((req, res) => {
    const f = files[new URL(req.url ?? '/', 'http://x').pathname];
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': f[1], 'content-security-policy': CSP, 'cache-control': 'no-store' });
    res.end(f[0] === 'index.html' ? '<!doctype html><meta charset="utf-8"><script type="module" src="/bench.js"></script>' : readFileSync(join(dir, f[0])));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    resolve({ server, url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/` });
  }));
}

interface BrowserFigures {
  userAgentMajor: string;
  messages: MessageFigures;
  safetyNumberMs: number;
  argon2WorkerMs: number;
}

async function browserFigures(dir: string, n: number): Promise<BrowserFigures> {
  await bundle(join(here, 'browser-entry.ts'), join(dir, 'bench.js'));
  await bundle(join(root, 'web-client', 'src', 'crypto', 'recovery-worker.ts'), join(dir, 'worker.js'));
  const { chromium } = await import('playwright-core');
  const { server, url } = await serve(dir);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    const cspViolations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    await page.goto(`${url}?n=${n}`);
    await page.waitForFunction(() => window.__bench !== undefined || window.__benchError !== undefined, undefined, { timeout: 300_000 });
    const error = await page.evaluate(() => window.__benchError);
    if (error) throw new Error(`in Chromium: ${error}`);
    if (cspViolations.length) throw new Error(`CSP violations: ${cspViolations.join('; ')}`);
    return (await page.evaluate(() => window.__bench)) as BrowserFigures;
  } finally {
    await browser.close();
    server.close();
  }
}

/** Runs one group size in a child process; undefined when it exceeds `timeoutMs`. */
function groupInChild(n: number, timeoutMs: number): Promise<GroupFigures | { timedOut: true; afterMs: number } | { error: string }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--group-child', String(n)], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      if (child.pid) process.kill(child.pid, 'SIGKILL');
      resolve({ timedOut: true, afterMs: Date.now() - started });
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(out.trim().split('\n').pop()!));
      else if (code !== null) resolve({ error: `exit ${code}` });
    });
  });
}

async function main(): Promise<void> {
  const child = arg('group-child');
  if (child) {
    const figures = await groupFigures(Number(child), (s) => process.stderr.write(`${s}\n`));
    process.stdout.write(`${JSON.stringify(figures)}\n`);
    return;
  }
  const sizes = (arg('sizes') ?? '100,300,1000').split(',').map(Number);
  const n = Number(arg('messages') ?? 300);
  const groupTimeoutMs = Number(arg('group-timeout-s') ?? 600) * 1000;
  const dir = mkdtempSync(join(tmpdir(), 'chatroom-crypto-bench-'));
  try {
    const size = await bundle(join(root, 'web-client', 'src', 'crypto', 'index.ts'), join(dir, 'crypto.js'));
    const worker = await bundle(join(root, 'web-client', 'src', 'crypto', 'recovery-worker.ts'), join(dir, 'worker-size.js'));
    console.log(`bundle: crypto entry ${kb(size.raw)} min, ${kb(size.gzip)} gzip; KDF worker ${kb(worker.raw)} min, ${kb(worker.gzip)} gzip`);

    const node = await messageCost(n);
    console.log(`node ${process.version}: seal ${fmt(node.sealMs)} + open ${fmt(node.openMs)} = ${fmt(node.sealMs + node.openMs)} per message (${n} messages, ${node.envelopeBytes}-byte envelopes)`);

    if (!process.argv.includes('--no-browser')) {
      const b = await browserFigures(dir, n);
      console.log(`chromium ${b.userAgentMajor}: seal ${fmt(b.messages.sealMs)} + open ${fmt(b.messages.openMs)} = ${fmt(b.messages.sealMs + b.messages.openMs)} per message; safety number ${fmt(b.safetyNumberMs)}; Argon2id t=3 m=64MiB in a Worker ${fmt(b.argon2WorkerMs)} (strict CSP, no WASM)`);
    }

    console.log('groups (built by one commit adding everyone: worst-case tree; one process per size):');
    for (const s of sizes) {
      const r = await groupInChild(s, groupTimeoutMs);
      if ('timedOut' in r) console.log(`  ${s}: did not finish within ${Math.round(r.afterMs / 1000)} s (stopped)`);
      else if ('error' in r) console.log(`  ${s}: failed (${r.error})`);
      else {
        console.log(
          `  ${s} → ${s + 1}: add-one commit ${kb(r.addOneCommitBytes)} in ${fmt(r.addOneMs)}, Welcome ${kb(r.addOneWelcomeBytes)}, ` +
            `member processes it in ${fmt(r.processMs)}, newcomer joins in ${fmt(r.joinMs)}; state per device ${kb(r.stateBytes)}; ` +
            `newcomer's self-update ${kb(r.updateCommitBytes)} in ${fmt(r.updateMs)} (build ${fmt(r.buildMs)})`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
