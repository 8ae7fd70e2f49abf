/**
 * Turns run records into named figures, same-repetition ratios and target verdicts.
 * A figure is `<scenario>.<metric><Unit>` (e.g. `fanout.p99Ms`); its ratio drops the unit and adds
 * `Ratio` (`fanout.p99Ratio`) and is the median, over repetitions, of project ÷ floor from the
 * same repetition. Figures themselves are medians over repetitions (a few, marked, are maxima).
 */
import { FANOUT_CPU_RATES, FANOUT_LATENCY_RATE, ROOMS_HEADLINE_RATE } from './profiles.ts';
import type { LoadgenResult, RunRecord, StepResult, Target } from './results.ts';

/** A fan-out or rooms step "sustains" its rate when it delivers this much … */
export const SUSTAINED_MIN_DELIVERED_PCT = 99;
/** … with a p99 no worse than this, ms (the issue's definition). */
export const SUSTAINED_MAX_P99_MS = 250;

type Figures = Record<string, number>;

const UNIT = /(Bytes|Us|Ms|Pct|PerSec)$/;
/** Figures that describe the box or the load generator, not the server: no ratio. */
const NO_RATIO = /(otherCpuPct|clientCpuPct|softirqCpuPct|\.connections|controlFramesPerClient)$/;
/** Figures aggregated as the worst repetition rather than the median. */
const WORST_OF = /loopStallMaxMs$/;

/** `fanout.p99Ms` → `fanout.p99Ratio`. */
export function ratioName(figure: string): string {
  return figure.replace(UNIT, '') + 'Ratio';
}

function stepFigures(prefix: string, s: StepResult, out: Figures): void {
  if (s.loopDelayMaxMs >= 0) out[`${prefix}.loopDelayMaxMs`] = s.loopDelayMaxMs;
  out[`${prefix}.serverCpuPct`] = s.serverCpuPct;
  out[`${prefix}.cpuPerDeliveryUs`] = s.cpuPerDeliveryUs;
  out[`${prefix}.deliveriesPerSec`] = s.deliveriesPerSec;
  out[`${prefix}.deliveredPct`] = s.deliveredPct;
  out[`${prefix}.p50Ms`] = s.p50Ms;
  out[`${prefix}.p90Ms`] = s.p90Ms;
  out[`${prefix}.p99Ms`] = s.p99Ms;
  out[`${prefix}.maxMs`] = s.maxMs;
  out[`${prefix}.serverRssBytes`] = s.serverRssBytes;
  out[`${prefix}.clientCpuPct`] = s.clientCpuPct;
  out[`${prefix}.softirqCpuPct`] = s.softirqCpuPct;
  out[`${prefix}.otherCpuPct`] = s.otherCpuPct;
}

function sustained(steps: StepResult[]): StepResult | undefined {
  return steps.filter((s) => s.deliveredPct >= SUSTAINED_MIN_DELIVERED_PCT && s.p99Ms <= SUSTAINED_MAX_P99_MS).sort((a, b) => b.offeredPerSec - a.offeredPerSec)[0];
}

/**
 * The named figures of one run. The idle headline is taken at `idleStage` connections (the
 * profile's largest) only, so floor and project are compared at the same N or not at all.
 */
export function figuresOf(r: LoadgenResult, idleStage: number): Figures {
  const out: Figures = {};
  const control = Object.values(r.controlFrames ?? {}).reduce((a, b) => a + b, 0);
  out[`${r.mode}.controlFramesPerClient`] = round(control / r.clients, 1);
  if (r.mode === 'idle' && r.idle && r.idle.stages.length > 0) {
    for (const st of r.idle.stages) {
      const p = `idle.n${st.connections}`;
      out[`${p}.rssPerConnectionBytes`] = st.rssPerConnectionBytes;
      out[`${p}.heapPerConnectionBytes`] = st.heapPerConnectionBytes;
      out[`${p}.serverRssBytes`] = st.serverRssBytes;
      out[`${p}.connectRatePerSec`] = st.connectsPerSec;
    }
    const last = r.idle.stages.find((st) => st.connections === idleStage);
    if (last) {
    out['idle.connections'] = last.connections;
    out['idle.rssPerConnectionBytes'] = last.rssPerConnectionBytes;
    out['idle.heapPerConnectionBytes'] = last.heapPerConnectionBytes;
    out['idle.serverRssBytes'] = last.serverRssBytes;
    out['idle.serverRssBaseBytes'] = r.idle.serverRssBaseBytes;
    out['idle.connectRatePerSec'] = last.connectsPerSec;
    }
  }
  if (r.mode === 'fanout' && r.steps) {
    for (const s of r.steps) stepFigures(`fanout.r${s.offeredPerSec}`, s, out);
    const cpuSteps = r.steps.filter((s) => FANOUT_CPU_RATES.includes(s.offeredPerSec));
    if (cpuSteps.length > 0) out['fanout.cpuPerDeliveryUs'] = round(cpuSteps.reduce((a, s) => a + s.cpuPerDeliveryUs, 0) / cpuSteps.length, 1);
    const lat = r.steps.find((s) => s.offeredPerSec === FANOUT_LATENCY_RATE);
    if (lat) {
      out['fanout.p50Ms'] = lat.p50Ms;
      out['fanout.p99Ms'] = lat.p99Ms;
    }
    const best = sustained(r.steps);
    out['fanout.maxSustainedRatePerSec'] = best?.offeredPerSec ?? 0;
    out['fanout.maxSustainedDeliveriesPerSec'] = best?.deliveriesPerSec ?? 0;
  }
  if (r.mode === 'rooms' && r.steps) {
    const perClient = (s: StepResult) => s.offeredPerSec / r.clients;
    for (const s of r.steps) stepFigures(`rooms.r${perClient(s)}`, s, out);
    const head = r.steps.find((s) => perClient(s) === ROOMS_HEADLINE_RATE);
    if (head) {
      out['rooms.cpuPct'] = head.serverCpuPct;
      out['rooms.cpuPerDeliveryUs'] = head.cpuPerDeliveryUs;
      out['rooms.p50Ms'] = head.p50Ms;
      out['rooms.p99Ms'] = head.p99Ms;
      out['rooms.deliveredPct'] = head.deliveredPct;
      if (head.loopDelayMaxMs >= 0) {
        out['rooms.loopDelayP99Ms'] = head.loopDelayP99Ms;
        out['rooms.loopDelayMaxMs'] = head.loopDelayMaxMs;
      }
    }
    const stalls = r.steps.map((s) => s.loopDelayMaxMs).filter((v) => v >= 0);
    if (stalls.length > 0) out['rooms.loopStallMaxMs'] = Math.max(...stalls);
    const best = sustained(r.steps);
    out['rooms.maxSustainedRatePerSec'] = best ? perClient(best) : 0;
  }
  return out;
}

export function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export interface TargetCheck {
  name: string;
  /** The figure must be ≤ this. */
  limit: number;
  value: number | null;
  pass: boolean | null;
  why: string;
}

export interface Summary {
  figures: Record<Target, Figures>;
  ratios: Figures;
  targets: TargetCheck[];
  /** Repetitions that produced both a floor and a project result, per scenario. */
  pairedReps: Record<string, number>;
}

/** The issue's targets: project ÷ floor ratios, and the persistence stall bound. */
/**
 * `keptUp`: project figures (delivered %) that must reach SUSTAINED_MIN_DELIVERED_PCT for a CPU
 * or latency ratio to count — a server stalled in I/O burns little CPU while delivering nothing.
 */
export const TARGETS: Array<{ name: string; limit: number; why: string; keptUp?: string[] }> = [
  { name: 'fanout.cpuPerDeliveryRatio', limit: 1.0, why: 'fan-out server CPU per delivery at 25 and 50 msg/s, vs the floor', keptUp: ['fanout.r25.deliveredPct', 'fanout.r50.deliveredPct'] },
  { name: 'idle.rssPerConnectionRatio', limit: 1.25, why: 'idle memory per connection (ΔRSS after GC) at the largest stage, vs the floor' },
  { name: 'fanout.p99Ratio', limit: 1.5, why: 'fan-out p99 latency at 25 msg/s, vs the floor', keptUp: ['fanout.r25.deliveredPct'] },
  { name: 'rooms.cpuRatio', limit: 1.25, why: 'small-room server CPU at 1 msg/s/client with persistence, vs the floor', keptUp: ['rooms.deliveredPct'] },
  { name: 'project.rooms.loopStallMaxMs', limit: 20, why: 'worst event-loop stall in the project server during any rooms step (WAL checkpoints)' },
];

export function summarize(records: RunRecord[], idleStage: number): Summary {
  const perRun = new Map<string, Figures>();
  for (const rec of records) if (rec.result) perRun.set(`${rec.rep}/${rec.mode}/${rec.target}`, figuresOf(rec.result, idleStage));

  const figures: Record<Target, Figures> = { floor: {}, project: {} };
  for (const target of ['floor', 'project'] as const) {
    const byName = new Map<string, number[]>();
    for (const [key, figs] of perRun) {
      if (!key.endsWith(`/${target}`)) continue;
      for (const [name, v] of Object.entries(figs)) byName.set(name, [...(byName.get(name) ?? []), v]);
    }
    for (const [name, vs] of byName) figures[target][name] = round(WORST_OF.test(name) ? Math.max(...vs) : median(vs), 3);
  }

  const ratios: Figures = {};
  const pairedReps: Record<string, number> = {};
  const reps = [...new Set(records.map((r) => r.rep))];
  const byRatio = new Map<string, number[]>();
  for (const mode of ['idle', 'fanout', 'rooms']) {
    let paired = 0;
    for (const rep of reps) {
      const f = perRun.get(`${rep}/${mode}/floor`);
      const p = perRun.get(`${rep}/${mode}/project`);
      if (!f || !p) continue;
      paired++;
      for (const [name, pv] of Object.entries(p)) {
        const fv = f[name];
        if (NO_RATIO.test(name) || WORST_OF.test(name) || fv === undefined || fv === 0) continue;
        const rn = ratioName(name);
        byRatio.set(rn, [...(byRatio.get(rn) ?? []), pv / fv]);
      }
    }
    pairedReps[mode] = paired;
  }
  for (const [name, vs] of byRatio) ratios[name] = round(median(vs), 3);

  const targets = TARGETS.map((t): TargetCheck => {
    const value = t.name.startsWith('project.') ? figures.project[t.name.slice('project.'.length)] : ratios[t.name];
    const { keptUp, ...check } = t;
    const behind = (keptUp ?? []).filter((f) => (figures.project[f] ?? 100) < SUSTAINED_MIN_DELIVERED_PCT);
    const floorBehind = (keptUp ?? []).filter((f) => (figures.floor[f] ?? 100) < SUSTAINED_MIN_DELIVERED_PCT);
    if (value !== undefined && behind.length > 0) {
      const alsoFloor = floorBehind.length > 0 ? ` (nor did the floor: ${floorBehind.map((f) => `${f} = ${figures.floor[f]}`).join(', ')} — an overloaded box)` : '';
      return { ...check, value, pass: false, why: `${t.why}; the project did not keep up: ${behind.map((f) => `${f} = ${figures.project[f]}`).join(', ')}${alsoFloor}` };
    }
    if (value !== undefined && floorBehind.length > 0) {
      // The floor itself fell behind: the box was overloaded, so the ratio is a weak signal.
      return { ...check, value, pass: value <= t.limit, why: `${t.why}; unreliable, the floor did not keep up either: ${floorBehind.map((f) => `${f} = ${figures.floor[f]}`).join(', ')}` };
    }
    if (value !== undefined) return { ...check, value, pass: value <= t.limit };
    // No figure: a project run that failed (e.g. could not connect every client in time) is a miss.
    const mode = t.name.replace(/^project\./, '').split('.')[0];
    const failed = records.find((r) => r.mode === mode && r.target === 'project' && r.error);
    return failed ? { ...check, value: null, pass: false, why: `${t.why}; project run failed: ${failed.error}` } : { ...check, value: null, pass: null };
  });
  return { figures, ratios, targets, pairedReps };
}
