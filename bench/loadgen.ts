/**
 * The load generator: thousands of `ws` clients in this one process, so every latency is measured
 * on one clock (performance.now() stamped into the body at send, read back at receipt).
 * Modes: idle (connect in stages, RSS per connection), fanout (one sender, one big room, rising
 * rates) and rooms (every client sends into its small room). Reads its LoadgenConfig from the
 * JSON file named on the command line; writes one JSON result line to stdout and progress to
 * stderr (counts and timings only: no token, body or address).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { LogHistogram } from './lib/histogram.ts';
import { makeBody, readStamp } from './lib/body.ts';
import { clientToken, roomOf, SEED_ENV, type Layout, type StatsReport } from './lib/layout.ts';
import { cpuBetween, processRssBytes, sampleCpu, threadCpuSeconds, threadsBetween } from './lib/proc.ts';
import type { IdleResult, IdleStage, LoadgenConfig, LoadgenResult, StepResult } from './lib/results.ts';

/** Pacing timer period, ms: sends due since the last tick go out together. */
const TICK_MS = 2;
const SESSION_COOKIE = '__Host-sid';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8')) as LoadgenConfig;
const seed = process.env[SEED_ENV] ?? '';
const { layout, serverPid } = config;

interface Client {
  index: number;
  conv: string;
  ws: WebSocket;
}
const clients: Client[] = [];

// ---------------------------------------------------------------- receiving

/** The step whose deliveries count; frames stamped with any other step are late leftovers. */
let currentStep = -1;
let received = 0;
let lateFrames = 0;
const latency = new LogHistogram();
const errorCodes: Record<string, number> = {};
const closeCodes: Record<string, number> = {};
const ERROR_MARK = Buffer.from('"t":"error"');

/** Frames other than `msg` (presence, ack, subscribed, …) by type, over the whole run. */
const controlFrames: Record<string, number> = {};
const FRAME_TYPE = /^\{"t":"([a-z]+)"/;

function countControl(data: Buffer): void {
  const type = FRAME_TYPE.exec(data.toString('latin1', 0, 24))?.[1] ?? 'other';
  controlFrames[type] = (controlFrames[type] ?? 0) + 1;
}

/** A sender's copy of its own message (neither server sends one today; counted, not as a delivery). */
let selfEchoes = 0;

function onFrame(data: Buffer, receiver: number): void {
  const stamp = readStamp(data);
  if (!stamp) {
    countControl(data);
    if (data.indexOf(ERROR_MARK) >= 0) countError(data);
    return;
  }
  if (stamp.sender === receiver) {
    selfEchoes++;
    return;
  }
  if (stamp.stepId !== currentStep) {
    lateFrames++;
    return;
  }
  received++;
  latency.record(performance.now() - stamp.sentMs);
}

function countError(data: Buffer): void {
  let code = 'unparsable';
  try {
    code = String((JSON.parse(data.toString()) as { code?: unknown }).code);
  } catch {
    // keep 'unparsable'
  }
  errorCodes[code] = (errorCodes[code] ?? 0) + 1;
}

// ---------------------------------------------------------------- connecting

function connect(index: number): Promise<Client> {
  const conv = config.convs[roomOf(layout, index)];
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(config.url, {
      perMessageDeflate: false,
      skipUTF8Validation: true,
      handshakeTimeout: 30_000,
      headers: { Cookie: `${SESSION_COOKIE}=${clientToken(seed, index)}`, Origin: config.origin },
    });
    let subscribed = false;
    ws.on('open', () => ws.send(JSON.stringify({ t: 'sub', conv })));
    ws.on('message', (data: Buffer) => {
      if (subscribed) return onFrame(data, index);
      countControl(data);
      const text = data.toString();
      if (text.includes('"t":"subscribed"')) {
        subscribed = true;
        resolve({ index, conv, ws });
      } else if (text.includes('"t":"error"')) {
        countError(data);
        reject(new Error(`client ${index}: the server refused the subscription (${text.slice(0, 120)})`));
      }
    });
    ws.on('error', (err) => {
      if (!subscribed) reject(new Error(`client ${index}: ${err.message}`));
    });
    ws.on('close', (code) => {
      if (!subscribed) reject(new Error(`client ${index}: closed (${code}) before subscribing`));
      else closeCodes[code] = (closeCodes[code] ?? 0) + 1;
    });
  });
}

/** performance.now() by which every client of the run must be connected, ms. */
const connectDeadline = performance.now() + config.connectBudgetMs;
/** Judge the projected finish only after this long, so a slow first second does not abort the run, ms. */
const PROJECTION_AFTER_MS = 5000;

/**
 * Connects clients [from, to) with `connectConcurrency` handshakes in flight. Gives up, with the
 * rate reached, as soon as the rate so far cannot finish within the run's connect budget.
 */
async function connectRange(from: number, to: number): Promise<void> {
  let next = from;
  let done = 0;
  const start = performance.now();
  const tooSlow = (): Error | null => {
    const now = performance.now();
    const elapsed = now - start;
    const rate = done / Math.max(elapsed, 1);
    const projectedEnd = now + (to - from - done) / Math.max(rate, 1e-6);
    if (now > connectDeadline || (elapsed > PROJECTION_AFTER_MS && projectedEnd > connectDeadline)) {
      return new Error(`connected ${from + done} of ${to} clients at ${Math.round(rate * 1000)} connects/s: cannot finish within the ${config.connectBudgetMs / 1000} s connect budget`);
    }
    return null;
  };
  let failure: Error | null = null;
  const worker = async () => {
    while (next < to && !failure) {
      const i = next++;
      clients[i] = await connect(i);
      done++;
      failure ??= tooSlow();
    }
  };
  await Promise.all(Array.from({ length: Math.min(config.connectConcurrency, to - from) }, worker));
  if (failure) throw failure;
}

// ---------------------------------------------------------------- server stats

let lastReport = 0;

/** SIGUSR2 → the server GCs twice and writes memoryUsage + loop delay since the last report. */
async function serverStats(): Promise<StatsReport> {
  const report = await tryServerStats();
  if (!report) throw new Error(`the server did not answer SIGUSR2 within ${config.statsTimeoutMs} ms`);
  return report;
}

/** Like serverStats, but null when a starved server does not answer in time (a step keeps its other figures). */
async function tryServerStats(): Promise<StatsReport | null> {
  process.kill(serverPid, 'SIGUSR2');
  const deadline = performance.now() + config.statsTimeoutMs;
  while (performance.now() < deadline) {
    await sleep(10);
    try {
      const report = JSON.parse(readFileSync(config.statsFile, 'utf8')) as StatsReport;
      if (report.n > lastReport) {
        lastReport = report.n;
        return report;
      }
    } catch {
      // not written yet
    }
  }
  return null;
}

// ---------------------------------------------------------------- quiet gate

/** Waits (bounded) for the other tenants of the box to use less than maxOtherPct of a core. */
async function waitQuiet(): Promise<{ waitedMs: number; otherPct: number }> {
  const start = performance.now();
  for (;;) {
    const a = sampleCpu(serverPid);
    await sleep(config.quiet.sampleMs);
    const use = cpuBetween(a, sampleCpu(serverPid));
    const waitedMs = Math.round(performance.now() - start);
    if (use.otherPct < config.quiet.maxOtherPct || waitedMs >= config.quiet.maxWaitMs) return { waitedMs, otherPct: use.otherPct };
  }
}

// ---------------------------------------------------------------- steps

let nextStepId = 1;
let nextRef = 1;

interface StepPlan {
  label: string;
  /** Offered rate: messages per second into the server, all senders together. */
  ratePerSec: number;
  /** Deliveries each message should cause: the other members of the room (the sender gets an ack). */
  recipients: number;
  stepMs: number;
  drainMs: number;
  /** The k-th message of the step goes out from this client. */
  pick(k: number): Client;
}

function send(client: Client, stepId: number): void {
  const body = makeBody(stepId, client.index);
  client.ws.send(`{"t":"send","ref":"${nextRef++}","conv":"${client.conv}","body":"${body}"}`);
}

/** `perf record` of every server thread from now until stopPerf, when the run asked for --perf. */
function startPerf(plan: StepPlan): ChildProcess | null {
  if (!config.perfDir) return null;
  mkdirSync(config.perfDir, { recursive: true });
  const out = join(config.perfDir, `${plan.label.replace(/[^a-z0-9]+/gi, '_')}-try${nextStepId}.perf.data`);
  // 999 Hz with call graphs: enough samples in a 5 s step, small enough not to skew the figures much.
  return spawn('perf', ['record', '-q', '-F', '999', '-g', '-p', String(serverPid), '-o', out], { stdio: 'ignore' });
}

async function stopPerf(perf: ChildProcess | null): Promise<void> {
  if (!perf || perf.pid === undefined || perf.exitCode !== null) return;
  const done = new Promise((resolve) => perf.once('exit', resolve));
  // SIGINT: perf writes its data and exits.
  process.kill(perf.pid, 'SIGINT');
  await done;
}

async function runStepOnce(plan: StepPlan): Promise<StepResult> {
  const quiet = await waitQuiet();
  const startReport = await tryServerStats(); // re-arms the server's loop monitor and leaves a collected heap
  const stepId = nextStepId++ % 10_000;
  const errorsBefore = Object.values(errorCodes).reduce((a, b) => a + b, 0);
  const closesBefore = Object.values(closeCodes).reduce((a, b) => a + b, 0);
  latency.reset();
  received = 0;
  lateFrames = 0;
  selfEchoes = 0;
  currentStep = stepId;
  const total = Math.floor((plan.stepMs * plan.ratePerSec) / 1000);
  let sent = 0;

  const perf = startPerf(plan);
  const threadsBefore = threadCpuSeconds(serverPid);
  const before = sampleCpu(serverPid);
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - t0;
      const due = Math.min(total, Math.floor((elapsed * plan.ratePerSec) / 1000));
      while (sent < due) send(plan.pick(sent++), stepId);
      if (elapsed >= plan.stepMs) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
  const after = sampleCpu(serverPid);
  const threadsAfter = threadCpuSeconds(serverPid);
  await stopPerf(perf);
  const inWindow = received;
  const expected = sent * plan.recipients;
  const drainStart = performance.now();
  while (received < expected && performance.now() - drainStart < plan.drainMs) await sleep(5);
  const drainMs = Math.round(performance.now() - drainStart);
  currentStep = -1;
  const report = await tryServerStats();
  const cpu = cpuBetween(before, after);
  const lat = latency.summary();
  const result: StepResult = {
    label: plan.label,
    offeredPerSec: plan.ratePerSec,
    sent,
    expected,
    received,
    deliveredPct: expected === 0 ? 0 : Math.round((100_000 * received) / expected) / 1000,
    deliveriesPerSec: Math.round(inWindow / cpu.wallS),
    ...lat,
    serverCpuPct: cpu.serverPct,
    clientCpuPct: cpu.clientPct,
    softirqCpuPct: cpu.softirqPct,
    otherCpuPct: cpu.otherPct,
    serverThreads: threadsBetween(threadsBefore, threadsAfter, after.wallS - before.wallS),
    cpuPerDeliveryUs: inWindow === 0 ? 0 : Math.round((10 * cpu.serverCpuS * 1e6) / inWindow) / 10,
    serverRssBytes: processRssBytes(serverPid),
    // -1: the server was too starved to report (the step's other figures still stand).
    serverHeapUsedBytes: report?.memory.heapUsed ?? -1,
    loopDelayMaxMs: report && startReport ? Math.round(report.loop.maxMs * 100) / 100 : -1,
    loopDelayP99Ms: report && startReport ? Math.round(report.loop.p99Ms * 100) / 100 : -1,
    drainMs,
    // Running totals become per-step deltas; running maxima (`max…`) are reported as they stand.
    serverCounters: Object.fromEntries(Object.entries(report?.counters ?? {}).map(([k, v]) => [k, k.startsWith('max') ? v : v - (startReport?.counters[k] ?? 0)])),
    lateFrames,
    selfEchoes,
    quietWaitMs: quiet.waitedMs,
    otherCpuPctBefore: quiet.otherPct,
    errors: Object.values(errorCodes).reduce((a, b) => a + b, 0) - errorsBefore,
    closes: Object.values(closeCodes).reduce((a, b) => a + b, 0) - closesBefore,
    attempts: 1,
    noisy: false,
  };
  log(`${config.target} ${config.mode} ${plan.label}: ${result.deliveredPct}% delivered, ${result.deliveriesPerSec}/s, p50 ${lat.p50Ms} ms, p99 ${lat.p99Ms} ms, server ${cpu.serverPct}% (${result.cpuPerDeliveryUs} µs/delivery), other ${cpu.otherPct}%`);
  log(`  server threads (user+sys %): ${(result.serverThreads ?? []).map((t) => `${t.tid === serverPid ? 'main' : `${t.name}/${t.tid}`} ${t.userPct}+${t.systemPct}`).join(', ')}`);
  return result;
}

const runDeadline = performance.now() + config.deadlineMs;
/** What the two SIGUSR2 reports of a step usually take (GC + 20 ms settle, twice), ms. */
const STATS_ALLOWANCE_MS = 1000;

/** Whether `steps` more steps of this plan (quiet gate included) still fit before the deadline. */
function timeForSteps(plan: StepPlan, steps: number): boolean {
  return performance.now() + steps * (config.quiet.maxWaitMs + plan.stepMs + plan.drainMs + STATS_ALLOWANCE_MS) < runDeadline;
}

/**
 * Runs a step; re-runs it once when other tenants took too much CPU, keeping the quieter try —
 * but only when the retry still leaves time for the `stepsAfter` steps still to come.
 */
async function runStep(plan: StepPlan, stepsAfter: number): Promise<StepResult> {
  let best = await runStepOnce(plan);
  for (let retry = 0; retry < config.quiet.retries && best.otherCpuPct > config.quiet.retryAbovePct && timeForSteps(plan, 1 + stepsAfter); retry++) {
    const again = await runStepOnce(plan);
    const attempts = best.attempts + 1;
    if (again.otherCpuPct < best.otherCpuPct) best = again;
    best.attempts = attempts;
  }
  best.noisy = best.otherCpuPct > config.quiet.retryAbovePct;
  return best;
}

let stoppedBy: string | undefined;

/** Sends at the plan's rate for `ms` and waits (bounded) for the deliveries; nothing is measured. */
async function warmUp(plan: StepPlan, ms: number): Promise<void> {
  const stepId = nextStepId++ % 10_000;
  received = 0;
  currentStep = stepId;
  const total = Math.floor((ms * plan.ratePerSec) / 1000);
  let sent = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - t0;
      const due = Math.min(total, Math.floor((elapsed * plan.ratePerSec) / 1000));
      while (sent < due) send(plan.pick(sent++), stepId);
      if (elapsed >= ms) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
  const drainStart = performance.now();
  while (received < sent * plan.recipients && performance.now() - drainStart < plan.drainMs) await sleep(5);
  currentStep = -1;
  log(`${config.target} ${config.mode} warm-up ${plan.label}: ${sent} sent in ${ms} ms, ${received} of ${sent * plan.recipients} delivered (not measured)`);
}

async function runRising(rates: number[], makePlan: (rate: number) => StepPlan, stop: { belowPct: number; aboveP99Ms: number }, warmupMs: number): Promise<StepResult[]> {
  const steps: StepResult[] = [];
  if (warmupMs > 0 && rates.length > 0 && timeForSteps(makePlan(rates[0]), 2)) await warmUp(makePlan(rates[0]), warmupMs);
  for (const [i, rate] of rates.entries()) {
    const plan = makePlan(rate);
    if (!timeForSteps(plan, 1)) {
      stoppedBy = 'time';
      break;
    }
    const step = await runStep(plan, rates.length - 1 - i);
    steps.push(step);
    const last = i === rates.length - 1;
    if (!last && step.deliveredPct < stop.belowPct) stoppedBy = 'delivery';
    else if (!last && step.p99Ms > stop.aboveP99Ms) stoppedBy = 'p99';
    if (stoppedBy) break;
  }
  return steps;
}

// ---------------------------------------------------------------- modes

async function runIdle(): Promise<IdleResult> {
  const idle = config.idle!;
  const base = await serverStats();
  const rss0 = processRssBytes(serverPid);
  const stages: IdleStage[] = [];
  let connected = 0;
  for (const n of idle.stages) {
    const before = sampleCpu(serverPid);
    try {
      await connectRange(connected, n);
    } catch (err) {
      // Keep the stages already measured; the error says how far the connects got.
      return { serverRssBaseBytes: rss0, serverHeapBaseBytes: base.memory.heapUsed, stages, error: err instanceof Error ? err.message : String(err) };
    }
    const connectCpu = cpuBetween(before, sampleCpu(serverPid));
    const connectS = connectCpu.wallS;
    const newConnections = n - connected;
    connected = n;
    await sleep(idle.settleMs);
    const report = await serverStats();
    const rss = processRssBytes(serverPid);
    const stage: IdleStage = {
      connections: n,
      serverRssBytes: rss,
      serverHeapUsedBytes: report.memory.heapUsed,
      rssPerConnectionBytes: Math.round((rss - rss0) / n),
      heapPerConnectionBytes: Math.round((report.memory.heapUsed - base.memory.heapUsed) / n),
      connectsPerSec: Math.round(newConnections / connectS),
      connectServerCpuPct: connectCpu.serverPct,
      connectClientCpuPct: connectCpu.clientPct,
      clientRssBytes: process.memoryUsage().rss,
    };
    stages.push(stage);
    log(`${config.target} idle ${n}: RSS ${(rss / 1048576).toFixed(1)} MB, ${stage.rssPerConnectionBytes} B/conn RSS, ${stage.heapPerConnectionBytes} B/conn heap, ${stage.connectsPerSec} connects/s`);
  }
  return { serverRssBaseBytes: rss0, serverHeapBaseBytes: base.memory.heapUsed, stages };
}

async function runFanout(): Promise<StepResult[]> {
  const f = config.fanout!;
  await connectRange(0, layout.clients);
  const sender = clients[0];
  return runRising(
    f.rates,
    (rate) => ({ label: `${rate}/s`, ratePerSec: rate, recipients: layout.clients - 1, stepMs: f.stepMs, drainMs: f.drainMs, pick: () => sender }),
    { belowPct: f.stopBelowPct, aboveP99Ms: f.stopAboveP99Ms },
    f.warmupMs,
  );
}

/** The k-th message of a round goes to room k mod R, from its members in turn: staggered round robin. */
function roomsPicker(l: Layout): (k: number) => Client {
  const rooms = Math.ceil(l.clients / l.roomSize);
  return (k) => {
    const room = k % rooms;
    const member = Math.floor(k / rooms) % l.roomSize;
    return clients[Math.min(l.clients - 1, room * l.roomSize + member)];
  };
}

async function runRooms(): Promise<StepResult[]> {
  const r = config.rooms!;
  await connectRange(0, layout.clients);
  const pick = roomsPicker(layout);
  return runRising(
    r.ratesPerClient,
    (rate) => ({ label: `${rate}/s/client`, ratePerSec: rate * layout.clients, recipients: layout.roomSize - 1, stepMs: r.stepMs, drainMs: r.drainMs, pick }),
    { belowPct: r.stopBelowPct, aboveP99Ms: r.stopAboveP99Ms },
    r.warmupMs,
  );
}

function log(line: string): void {
  process.stderr.write(`[loadgen] ${line}\n`);
}

async function main(): Promise<void> {
  const result: LoadgenResult = { mode: config.mode, target: config.target, clients: layout.clients, errorCodes, closeCodes, controlFrames };
  if (config.mode === 'idle') result.idle = await runIdle();
  else if (config.mode === 'fanout') result.steps = await runFanout();
  else result.steps = await runRooms();
  result.clientRssBytes = process.memoryUsage().rss;
  if (stoppedBy) result.stoppedBy = stoppedBy;
  for (const c of clients) c?.ws.terminate();
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
}

main().catch((err: unknown) => {
  process.stderr.write(`[loadgen] failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
