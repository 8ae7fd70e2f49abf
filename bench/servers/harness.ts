/**
 * What both bench servers share, so they are measured the same way: the SIGUSR2 stats report
 * (two forced GCs, memoryUsage, event-loop delay since the last report), the ready line, and a
 * clean stop on SIGTERM. Writes nothing but the ready line to stdout.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { renameSync, writeFileSync } from 'node:fs';
import { LAYOUT_ENV, SEED_ENV, STATS_FILE_ENV, type Layout, type ReadyLine, type StatsReport } from '../lib/layout.ts';

/** Event-loop delay sampling interval, ms: fine enough to see a 20 ms stall, cheap enough to ignore. */
const LOOP_RESOLUTION_MS = 5;
/** Wait after the forced GCs before re-arming the loop monitor, so the GC pause is not counted. */
const AFTER_GC_MS = 20;

/** The bench parameters every server gets from run.ts through the environment. */
export interface BenchEnv {
  layout: Layout;
  seed: string;
  statsFile: string;
}

export function readBenchEnv(): BenchEnv {
  const layout = process.env[LAYOUT_ENV];
  const seed = process.env[SEED_ENV];
  const statsFile = process.env[STATS_FILE_ENV];
  if (!layout || !seed || !statsFile) {
    throw new Error(`bench server: set ${LAYOUT_ENV}, ${SEED_ENV} and ${STATS_FILE_ENV} (bench/run.ts does)`);
  }
  return { layout: JSON.parse(layout) as Layout, seed, statsFile };
}

/**
 * Starts the loop monitor and the SIGUSR2 handler; `stop` runs on SIGTERM/SIGINT before exit;
 * `counters` adds server-specific running totals (e.g. group-commit transactions) to each report.
 */
export function installHarness(statsFile: string, stop: () => Promise<void>, counters: () => Record<string, number> = () => ({})): void {
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loop.enable();
  let reports = 0;
  const gc = (globalThis as { gc?: () => void }).gc;

  process.on('SIGUSR2', () => {
    // perf_hooks histograms are in ns; the monitor subtracts its own resolution already.
    const since = { maxMs: loop.max / 1e6, p99Ms: loop.percentile(99) / 1e6, meanMs: Number.isFinite(loop.mean) ? loop.mean / 1e6 : 0 };
    if (gc) {
      gc();
      gc();
    }
    const memory = process.memoryUsage();
    setTimeout(() => {
      loop.reset();
      const report: StatsReport = { n: ++reports, gc: Boolean(gc), memory, loop: since, counters: counters() };
      const tmp = `${statsFile}.tmp`;
      writeFileSync(tmp, JSON.stringify(report));
      renameSync(tmp, statsFile);
    }, AFTER_GC_MS);
  });

  let stopping = false;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    loop.disable();
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`bench server: stop failed: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/** The one line run.ts waits for. */
export function announceReady(line: Omit<ReadyLine, 'ready'>): void {
  process.stdout.write(`${JSON.stringify({ ready: true, ...line } satisfies ReadyLine)}\n`);
}
