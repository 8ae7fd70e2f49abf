/** The shapes passed between run.ts and loadgen.ts: what to run, and what one run measured. */
import type { Layout } from './layout.ts';
import type { ThreadUse } from './proc.ts';

export type Mode = 'idle' | 'fanout' | 'rooms';
export type Target = 'floor' | 'project';

/** Stop a rising-rate series at the first step that delivers less than this or has a worse p99. */
export interface StopRule {
  stopBelowPct: number;
  stopAboveP99Ms: number;
}

export interface LoadgenConfig {
  mode: Mode;
  target: Target;
  url: string;
  origin: string;
  serverPid: number;
  statsFile: string;
  statsTimeoutMs: number;
  layout: Layout;
  /** Conversation id of each room (from the server's ready line). */
  convs: string[];
  /** Handshakes in flight while connecting. */
  connectConcurrency: number;
  /** Every client of the run must be connected within this long of the start, ms. */
  connectBudgetMs: number;
  /** No new step (or retry) starts unless it can finish this long after the start, ms. */
  deadlineMs: number;
  /** When set, `perf record` samples the server over each step's send window into this folder. */
  perfDir?: string;
  idle?: { stages: number[]; settleMs: number };
  /** `warmupMs`: an unmeasured run at the first rate before the first step, so the steps measure JIT-compiled code in both servers. */
  fanout?: { rates: number[]; stepMs: number; drainMs: number; warmupMs: number } & StopRule;
  rooms?: { ratesPerClient: number[]; stepMs: number; drainMs: number; warmupMs: number } & StopRule;
  quiet: {
    /** Length of one background-CPU sample, ms. */
    sampleMs: number;
    /** Give up waiting for a quiet box after this long and measure anyway (recorded), ms. */
    maxWaitMs: number;
    /** "Quiet" = other processes use less than this % of one core. */
    maxOtherPct: number;
    /** Re-run a step whose background CPU exceeded this % of one core. */
    retryAbovePct: number;
    retries: number;
  };
}

/** One rate step of fanout or rooms. Latencies in ms; CPU in % of one core. */
export interface StepResult {
  label: string;
  offeredPerSec: number;
  sent: number;
  expected: number;
  received: number;
  deliveredPct: number;
  /** Deliveries received inside the send window, per second. */
  deliveriesPerSec: number;
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  serverCpuPct: number;
  clientCpuPct: number;
  softirqCpuPct: number;
  otherCpuPct: number;
  /** Server CPU per thread inside the send window (threads under 0.5 % left out), busiest first; the main thread's tid is the server's pid. */
  serverThreads?: ThreadUse[];
  /** Server CPU inside the send window ÷ deliveries inside it, µs. */
  cpuPerDeliveryUs: number;
  serverRssBytes: number;
  serverHeapUsedBytes: number;
  /** Worst event-loop delay in the server during the step and its drain, ms; -1 when the server was too starved to report. */
  loopDelayMaxMs: number;
  loopDelayP99Ms: number;
  drainMs: number;
  /** Change in the server's counters over the step (project: group-commit transactions, messages, checkpoints); `max…` counters are the running maximum since the server started. */
  serverCounters: Record<string, number>;
  lateFrames: number;
  /** `msg` frames a sender got back for its own message (not deliveries). */
  selfEchoes: number;
  quietWaitMs: number;
  otherCpuPctBefore: number;
  errors: number;
  closes: number;
  attempts: number;
  /** Other tenants took more than retryAbovePct of a core even after the retry. */
  noisy: boolean;
}

export interface IdleStage {
  connections: number;
  serverRssBytes: number;
  serverHeapUsedBytes: number;
  /** (RSS at N − RSS at 0) ÷ N, after two forced GCs, bytes. */
  rssPerConnectionBytes: number;
  heapPerConnectionBytes: number;
  connectsPerSec: number;
  /** CPU while this stage's clients connected, % of one core. */
  connectServerCpuPct: number;
  connectClientCpuPct: number;
  clientRssBytes: number;
}

export interface IdleResult {
  serverRssBaseBytes: number;
  serverHeapBaseBytes: number;
  stages: IdleStage[];
  /** Set when a stage could not be reached (e.g. the connect rate was too low for the budget). */
  error?: string;
}

export interface LoadgenResult {
  mode: Mode;
  target: Target;
  clients: number;
  idle?: IdleResult;
  steps?: StepResult[];
  /** Why a rising-rate series stopped before its last rate (`delivery`, `p99` or `time`). */
  stoppedBy?: string;
  errorCodes: Record<string, number>;
  closeCodes: Record<string, number>;
  /** Non-`msg` frames the clients received, by type (presence, ack, subscribed, …). */
  controlFrames: Record<string, number>;
  clientRssBytes?: number;
}

/** One (repetition, scenario, target) run as run.ts records it. */
export interface RunRecord {
  rep: number;
  mode: Mode;
  target: Target;
  startedAt: string;
  wallS: number;
  serverSetupMs?: number;
  result?: LoadgenResult;
  /** Why the run produced no result (server failed to start, load generator timed out, …). */
  error?: string;
}
