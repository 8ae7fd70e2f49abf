/**
 * The real `chatroom` CLI for browser tests: `init` into a temp dir, `start` as a child process
 * over self-signed TLS (its stdout and stderr kept, so a test can search them), and the link the
 * CLI prints pointed at 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { request } from 'node:https';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;
const cli = join(root, 'bin', 'chatroom.js');

/** A free TCP port on 127.0.0.1 (closed again before returning). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Runs the CLI to completion; rejects with its output on a non-zero exit. */
export async function runCli(args: string[]): Promise<string> {
  const child = spawn(process.execPath, [cli, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`chatroom ${args[0]} exited ${code}\n${out}\n${err}`);
  return out;
}

/** `chatroom init` into `dir` on `port` (self-signed TLS, no UPnP); returns the admin setup link at 127.0.0.1. */
export async function initInstance(dir: string, port: number, name = 'Test chat'): Promise<string> {
  const initOut = await runCli(['init', '--yes', '--dir', dir, '--port', String(port), '--host', '127.0.0.1', '--tls', 'self-signed', '--name', name, '--no-upnp']);
  const setupLine = /Admin setup link:\s*(\S+)/.exec(initOut);
  assert.ok(setupLine, `init prints "Admin setup link: <url>"\n${initOut}`);
  return loopback(setupLine[1], port);
}

/** A link printed by the CLI, pointed at 127.0.0.1 (the CLI may print localhost or a LAN address). */
export function loopback(link: string, port: number): string {
  const url = new URL(link);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return url.href;
}

/** GET /healthz over the self-signed TLS; resolves with the status code. */
function healthz(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz', rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

export interface Running {
  child: ChildProcess;
  /** Everything the server wrote to stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  stop(): Promise<number | null>;
}

/** `chatroom start`: resolves once it printed its URLs and /healthz answers 200. */
export async function startCli(dir: string, port: number): Promise<Running> {
  // No HTTP→HTTPS redirect listener: it would take the fixed port 8080 that parallel tests share.
  const env = { ...process.env, CHATROOM_HTTP_PORT: '0' };
  const child = spawn(process.execPath, [cli, 'start', '--dir', dir], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    const onData = () => {
      if (/https:\/\/\S+/.test(out)) {
        child.stdout!.off('data', onData);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => reject(new Error(`chatroom start exited ${code} before serving\n${out}\n${err}`)));
  });
  assert.equal(await healthz(port), 200, '/healthz after start');
  let stopping = false;
  // A crash mid-test would otherwise only show up as browser timeouts.
  void exited.then((code) => {
    if (!stopping) console.error(`chatroom start exited unexpectedly (${code})\n${out}\n${err}`);
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    async stop() {
      stopping = true;
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
