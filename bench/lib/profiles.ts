/** The two bench profiles: `full` (the sizes, 3 repetitions) and `--quick` (≤ 2 min). */
import type { Layout } from './layout.ts';
import type { LoadgenConfig, Mode } from './results.ts';

export interface Profile {
  name: 'full' | 'quick';
  reps: number;
  layouts: Record<Mode, Layout>;
  idle: NonNullable<LoadgenConfig['idle']>;
  fanout: NonNullable<LoadgenConfig['fanout']>;
  rooms: NonNullable<LoadgenConfig['rooms']>;
  quiet: LoadgenConfig['quiet'];
  /** Per scenario: all clients must be connected within this long, ms. */
  connectBudgetMs: Record<Mode, number>;
  /** Kill the load generator after this long, ms (research §6: `timeout 170`). */
  loadgenTimeoutMs: number;
  /** Give up on a server that has not printed its ready line after this long, ms. */
  serverStartTimeoutMs: number;
}

/** Rates at which the fan-out headline figures are taken (research T3: 25 and 50 msg/s). */
export const FANOUT_CPU_RATES = [25, 50];
/** Rate at which the fan-out latency headline is taken (research T5). */
export const FANOUT_LATENCY_RATE = 25;
/** Per-client rate at which the rooms headline is taken (the issue: 1 msg/s). */
export const ROOMS_HEADLINE_RATE = 1;

const stopRule = { stopBelowPct: 97, stopAboveP99Ms: 1000 };
/**
 * Unmeasured sending before the first step, ms. Connecting runs a server's connect path only: the
 * project's send path (validation, group commit, fan-out) was still being compiled by TurboFan
 * through a whole 5 s step (perf: ~5 % of a core in V8's compiler threads, the floor ~0).
 */
const WARMUP_MS = 3000;

export const FULL: Profile = {
  name: 'full',
  reps: 3,
  layouts: {
    idle: { clients: 10_000, roomSize: 5, kind: 'group' },
    fanout: { clients: 1000, roomSize: 1000, kind: 'channel' },
    rooms: { clients: 5000, roomSize: 5, kind: 'group' },
  },
  idle: { stages: [1000, 5000, 10_000], settleMs: 2000 },
  fanout: { rates: [10, 25, 50, 75, 100, 150], stepMs: 5000, drainMs: 3000, warmupMs: WARMUP_MS, ...stopRule },
  rooms: { ratesPerClient: [1, 2], stepMs: 8000, drainMs: 3000, warmupMs: WARMUP_MS, ...stopRule },
  quiet: { sampleMs: 1000, maxWaitMs: 5000, maxOtherPct: 25, retryAbovePct: 30, retries: 1 },
  connectBudgetMs: { idle: 90_000, fanout: 40_000, rooms: 60_000 },
  loadgenTimeoutMs: 170_000,
  serverStartTimeoutMs: 240_000,
};

export const QUICK: Profile = {
  name: 'quick',
  reps: 1,
  layouts: {
    idle: { clients: 1000, roomSize: 5, kind: 'group' },
    fanout: { clients: 1000, roomSize: 1000, kind: 'channel' },
    rooms: { clients: 1000, roomSize: 5, kind: 'group' },
  },
  idle: { stages: [1000], settleMs: 1000 },
  fanout: { rates: [25, 50], stepMs: 4000, drainMs: 2000, warmupMs: WARMUP_MS, ...stopRule },
  rooms: { ratesPerClient: [1], stepMs: 5000, drainMs: 2000, warmupMs: WARMUP_MS, ...stopRule },
  quiet: { sampleMs: 300, maxWaitMs: 1500, maxOtherPct: 25, retryAbovePct: 30, retries: 0 },
  connectBudgetMs: { idle: 25_000, fanout: 25_000, rooms: 25_000 },
  loadgenTimeoutMs: 75_000,
  serverStartTimeoutMs: 45_000,
};
