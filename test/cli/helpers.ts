// Shared helpers for the CLI tests: temp dirs, a fake in-process context, and the real bin as a child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { TestContext } from 'node:test';
import { packageRoot } from '../../src/paths.ts';
import type { CliContext } from '../../src/cli/context.ts';

export const BIN = join(packageRoot, 'bin', 'chatroom.js');

/** The child-process tests run the built CLI: fail loudly when it is missing. */
export function requireBuild(): void {
  if (!existsSync(join(packageRoot, 'dist', 'cli', 'index.js'))) throw new Error('dist/cli/index.js is missing: run `npm run build` first');
}

/** A fresh temp folder, removed after the test. */
export function tempDir(t: TestContext, prefix = 'chatroom-cli-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A port that was free a moment ago on 127.0.0.1 (for the HTTP redirect port, which has no "0 = pick"). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Captured text of a stream, with a way to wait until it matches. */
export class Capture {
  text = '';
  private readonly changed = new EventEmitter();
  readonly stream = new PassThrough();
  constructor(source?: NodeJS.ReadableStream | null) {
    const feed = (chunk: Buffer | string) => {
      this.text += chunk.toString();
      this.changed.emit('data');
    };
    (source ?? this.stream).on('data', feed);
  }
  /** Resolves with the first match of `re` once it appears. */
  waitFor(re: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = this.text.match(re);
        if (!m) return false;
        clearTimeout(timer);
        this.changed.off('data', check);
        resolve(m);
        return true;
      };
      const timer = setTimeout(() => {
        this.changed.off('data', check);
        reject(new Error(`timed out waiting for ${re}; got:\n${this.text}`));
      }, timeoutMs);
      if (!check()) this.changed.on('data', check);
    });
  }
}

/** A CliContext for in-process runs: captured stdout/stderr, no TTY, signals from an emitter. */
export function fakeContext(overrides: Partial<CliContext> = {}) {
  const stdout = new Capture();
  const stderr = new Capture();
  const signals = new EventEmitter();
  const ctx: Partial<CliContext> = {
    stdout: stdout.stream,
    stderr: stderr.stream,
    stdin: new PassThrough(),
    env: {},
    isTTY: false,
    color: false,
    cwd: process.cwd(),
    signals: signals as unknown as CliContext['signals'],
    ...overrides,
  };
  return { ctx, stdout, stderr, signals };
}

export interface Child {
  proc: ChildProcess;
  stdout: Capture;
  stderr: Capture;
  exited: Promise<number | null>;
}

/** Spawns `node bin/chatroom.js <args>` with stdin closed (not a TTY); killed by PID after the test. */
export function spawnCli(t: TestContext, args: string[], env: Record<string, string> = {}): Child {
  requireBuild();
  const proc = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...env } });
  const child: Child = {
    proc,
    stdout: new Capture(proc.stdout),
    stderr: new Capture(proc.stderr),
    // 'close' waits for stdout/stderr to drain, unlike 'exit'.
    exited: new Promise((resolve) => proc.on('close', (code) => resolve(code))),
  };
  t.after(() => {
    if (proc.exitCode === null && proc.signalCode === null && proc.pid) process.kill(proc.pid, 'SIGKILL');
  });
  return child;
}

/** Runs the CLI to completion. */
export async function runCli(t: TestContext, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnCli(t, args, env);
  const code = await child.exited;
  return { code, stdout: child.stdout.text, stderr: child.stderr.text };
}
