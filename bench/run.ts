/**
 * `npm run bench [-- --quick]`: runs every scenario against the raw-ws floor and the project
 * server, interleaved A B A B …, server pinned to CPU0 and load generator to CPU1, then writes
 * bench/results/latest.json (figures, same-repetition ratios, target verdicts, every raw step)
 * and prints a table. Loopback only; every child is bounded by a timeout and stopped by its PID.
 *
 * Flags: --quick (≤ 2 min profile), --reps N, --only idle,fanout,rooms, --targets floor,project,
 * --cpu-prof (servers write V8 CPU profiles to a temp folder, printed at the end; skews CPU figures),
 * --perf (Linux `perf record` of the server over each step's send window: every thread, kernel included).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { DATA_DIR_ENV, LAYOUT_ENV, SEED_ENV, STATS_FILE_ENV, type ReadyLine } from './lib/layout.ts';
import { FULL, QUICK, type Profile } from './lib/profiles.ts';
import { summarize } from './lib/aggregate.ts';
import { renderTable } from './lib/table.ts';
import type { LoadgenConfig, LoadgenResult, Mode, RunRecord, Target } from './lib/results.ts';

const benchDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = dirname(benchDir);
const SERVER_SCRIPT: Record<Target, string> = {
  floor: join(benchDir, 'servers', 'floor-ws.ts'),
  project: join(benchDir, 'servers', 'project.ts'),
};
/** After SIGTERM, a server gets this long to close before SIGKILL, ms. */
const STOP_GRACE_MS = 10_000;

// ---------------------------------------------------------------- arguments

interface Options {
  profile: Profile;
  modes: Mode[];
  targets: Target[];
  /** Folder for server CPU profiles, when --cpu-prof. */
  profileDir: string | null;
  /** Folder for `perf record` data of each step, when --perf. */
  perfDir: string | null;
}

function parseArgs(argv: string[]): Options {
  let profile = FULL;
  let profileDir: string | null = null;
  let perfDir: string | null = null;
  let reps: number | undefined;
  let modes: Mode[] = ['idle', 'fanout', 'rooms'];
  let targets: Target[] = ['floor', 'project'];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') profile = QUICK;
    else if (a === '--reps') reps = Number(argv[++i]);
    else if (a === '--only') modes = argv[++i].split(',') as Mode[];
    else if (a === '--targets') targets = argv[++i].split(',') as Target[];
    else if (a === '--cpu-prof') profileDir = mkdtempSync(join(tmpdir(), 'chatroom-bench-profiles-'));
    else if (a === '--perf') perfDir = mkdtempSync(join(tmpdir(), 'chatroom-bench-perf-'));
    else throw new Error(`unknown flag ${a}; use --quick, --reps 3, --only idle,fanout,rooms, --targets floor,project, --cpu-prof or --perf`);
  }
  if (reps !== undefined && !(Number.isInteger(reps) && reps >= 1)) throw new Error('--reps needs a whole number ≥ 1, e.g. --reps 3');
  for (const m of modes) if (!['idle', 'fanout', 'rooms'].includes(m)) throw new Error(`--only: unknown scenario ${m} (idle, fanout, rooms)`);
  for (const t of targets) if (!['floor', 'project'].includes(t)) throw new Error(`--targets: unknown target ${t} (floor, project)`);
  if (perfDir && spawnSync('perf', ['--version'], { stdio: 'ignore' }).status !== 0) throw new Error('--perf needs Linux perf on the PATH (Debian: linux-perf)');
  return { profile: { ...profile, reps: reps ?? profile.reps }, modes, targets, profileDir, perfDir };
}

// ---------------------------------------------------------------- children

const live = new Set<ChildProcess>();
const hasTaskset = spawnSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' }).status === 0;
const fdLimit = Number(spawnSync('bash', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim()) || null;

/** `node <args>` pinned to one CPU, with the soft fd limit raised to the hard one. */
function spawnNode(cpu: number, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const pin = hasTaskset ? `taskset -c ${cpu} ` : '';
  // exec keeps one PID from bash to node, so /proc/<pid> and kill(pid) reach node itself.
  const child = spawn('bash', ['-c', `ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec ${pin}"$0" "$@"`, process.execPath, ...args], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.on('exit', () => live.delete(child));
  return child;
}

function forwardStderr(child: ChildProcess, prefix: string, tail: string[]): void {
  createInterface({ input: child.stderr! }).on('line', (line) => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
    process.stderr.write(line.startsWith('[loadgen]') ? `${line}\n` : `[${prefix}] ${line}\n`);
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), STOP_GRACE_MS);
  await exited(child);
  clearTimeout(timer);
}

function waitReady(child: ChildProcess, timeoutMs: number, stderrTail: string[]): Promise<ReadyLine> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server not ready after ${timeoutMs} ms`)), timeoutMs);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (!line.startsWith('{"ready":true')) return;
      clearTimeout(timer);
      resolve(JSON.parse(line) as ReadyLine);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before it was ready: ${stderrTail.slice(-5).join(' | ')}`));
    });
  });
}

function collectStdout(child: ChildProcess): Promise<string> {
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  return exited(child).then(() => out);
}

// ---------------------------------------------------------------- one run

const seed = randomBytes(32).toString('base64url');

async function runOne({ profile, profileDir, perfDir }: Options, rep: number, mode: Mode, target: Target): Promise<RunRecord> {
  const startedAt = new Date();
  const t0 = performance.now();
  const record: RunRecord = { rep, mode, target, startedAt: startedAt.toISOString(), wallS: 0 };
  const dir = mkdtempSync(join(tmpdir(), 'chatroom-bench-'));
  const layout = profile.layouts[mode];
  const statsFile = join(dir, 'stats.json');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    [SEED_ENV]: seed,
    [LAYOUT_ENV]: JSON.stringify(layout),
    [STATS_FILE_ENV]: statsFile,
    [DATA_DIR_ENV]: join(dir, 'data'),
  };
  process.stderr.write(`\n== rep ${rep} · ${mode} · ${target} (${layout.clients} clients)\n`);
  const serverTail: string[] = [];
  // One folder per run: every thread (main, loader, checkpoint worker) writes its own profile.
  const profiling: string[] = profileDir ? ['--cpu-prof', '--cpu-prof-dir', join(profileDir, `${mode}-${target}-rep${rep}`)] : [];
  // --perf: V8 writes /tmp/perf-<pid>.map so perf names JIT-compiled JavaScript functions.
  if (perfDir) profiling.push('--perf-basic-prof');
  const server = spawnNode(0, ['--expose-gc', ...profiling, '--import', 'tsx', SERVER_SCRIPT[target]], env);
  forwardStderr(server, target, serverTail);
  try {
    const ready = await waitReady(server, profile.serverStartTimeoutMs, serverTail);
    record.serverSetupMs = ready.setupMs;
    const origin = `http://127.0.0.1:${ready.port}`;
    const config: LoadgenConfig = {
      mode,
      target,
      url: `ws://127.0.0.1:${ready.port}/ws`,
      origin,
      serverPid: server.pid!,
      statsFile,
      statsTimeoutMs: 15_000,
      layout,
      convs: ready.convs,
      connectConcurrency: 256,
      connectBudgetMs: profile.connectBudgetMs[mode],
      // Leave the load generator time to report before run.ts kills it.
      deadlineMs: profile.loadgenTimeoutMs - 15_000,
      quiet: profile.quiet,
      ...(perfDir ? { perfDir: join(perfDir, `${mode}-${target}-rep${rep}`) } : {}),
      ...(mode === 'idle' ? { idle: profile.idle } : mode === 'fanout' ? { fanout: profile.fanout } : { rooms: profile.rooms }),
    };
    const configFile = join(dir, 'loadgen.json');
    writeFileSync(configFile, JSON.stringify(config));
    const loadgenTail: string[] = [];
    const loadgen = spawnNode(1, ['--import', 'tsx', join(benchDir, 'loadgen.ts'), configFile], env);
    forwardStderr(loadgen, 'loadgen', loadgenTail);
    const killer = setTimeout(() => {
      record.error = `load generator killed after ${profile.loadgenTimeoutMs} ms`;
      if (loadgen.pid !== undefined) process.kill(loadgen.pid, 'SIGKILL');
    }, profile.loadgenTimeoutMs);
    const stdout = await collectStdout(loadgen);
    clearTimeout(killer);
    const last = stdout.trim().split('\n').pop() ?? '';
    if (loadgen.exitCode === 0 && last.startsWith('{')) {
      record.result = JSON.parse(last) as LoadgenResult;
      if (record.result.idle?.error) record.error = record.result.idle.error;
    } else {
      record.error ??= `load generator exited ${loadgen.exitCode}: ${loadgenTail.slice(-3).join(' | ')}`;
    }
  } catch (err) {
    record.error = err instanceof Error ? err.message : String(err);
  } finally {
    await stop(server);
    rmSync(dir, { recursive: true, force: true });
  }
  if (record.error) process.stderr.write(`!! ${mode} ${target} rep ${rep}: ${record.error}\n`);
  record.wallS = Math.round(performance.now() - t0) / 1000;
  return record;
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const { profile, modes, targets } = options;
  const startedAt = new Date();
  const t0 = performance.now();
  if (!hasTaskset) process.stderr.write('warning: taskset not found; server and load generator are not pinned\n');
  const records: RunRecord[] = [];
  for (let rep = 1; rep <= profile.reps; rep++) {
    for (const mode of modes) for (const target of targets) records.push(await runOne(options, rep, mode, target));
  }
  const summary = summarize(records, profile.idle.stages[profile.idle.stages.length - 1]);
  const out = {
    schema: 1,
    profile: profile.name,
    command: `npm run bench${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}`,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    wallS: Math.round(performance.now() - t0) / 1000,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', node: process.version, fdLimit, pinned: hasTaskset },
    reps: profile.reps,
    scenarios: modes,
    pairedReps: summary.pairedReps,
    figures: summary.figures,
    ratios: summary.ratios,
    targets: summary.targets,
    runs: records,
  };
  const resultsDir = join(benchDir, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const latest = join(resultsDir, 'latest.json');
  writeFileSync(latest, `${JSON.stringify(out, null, 2)}\n`);
  copyFileSync(latest, join(resultsDir, `${startedAt.toISOString().replace(/[:.]/g, '-')}-${profile.name}.json`));
  process.stdout.write(`\nchatroom bench · ${profile.name} · ${profile.reps} rep(s) · ${out.wallS} s · ratios are medians of same-repetition project ÷ floor\n\n`);
  process.stdout.write(`${renderTable(summary)}\n\nwrote ${latest}\n`);
  if (options.profileDir) process.stdout.write(`server CPU profiles in ${options.profileDir}\n`);
  if (options.perfDir) process.stdout.write(`perf data per step in ${options.perfDir} (summarize: node --import tsx bench/perf-summary.ts <file>)\n`);
  const failed = records.filter((r) => r.error);
  if (failed.length > 0) {
    process.stdout.write(`\n${failed.length} run(s) failed: ${failed.map((r) => `${r.mode}/${r.target}/rep${r.rep}: ${r.error}`).join('; ')}\n`);
    process.exitCode = 1;
  }
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    for (const child of live) if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    process.exit(130);
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  for (const child of live) if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  process.exitCode = 2;
});
