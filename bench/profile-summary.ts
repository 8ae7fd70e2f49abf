/**
 * `node --import tsx bench/profile-summary.ts <dir-or-file.cpuprofile>… [--top N]`: where the CPU
 * in V8 profiles (from `npm run bench -- --cpu-prof`) went, per thread: busy ms (not idle),
 * garbage collection, self time by source (a package in node_modules, a src/ file, node:internal,
 * native), and the functions with the most self time. Times are sampled, in ms.
 *
 * `--during send@handlers.ts` keeps only the span between the first and the last sample (of any
 * thread) whose stack holds that function from a source containing that text — e.g. the rooms
 * step, not the fixture setup — and adds each thread's busy time as % of one core over that span.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Where a function lives, coarse enough to add up: `ws`, `src/realtime/hub.ts`, `node:internal/…`, `(native)`. */
function sourceOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  const src = url.indexOf('/src/');
  if (src >= 0) return url.slice(src + 1);
  const bench = url.indexOf('/bench/');
  if (bench >= 0) return url.slice(bench + 1);
  return url;
}

/** Absolute sample times (µs, the same monotonic clock for every thread of a process). */
function sampleTimes(p: CpuProfile): number[] {
  const times = new Array<number>(p.samples.length);
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) times[i] = t += p.timeDeltas[i];
  return times;
}

/** [first, last] time of a sample whose stack holds `fn` from a source containing `where`, if any. */
function spanOf(p: CpuProfile, fn: string, where: string): [number, number] | null {
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const hits = new Map<number, boolean>();
  const holds = (id: number): boolean => {
    const known = hits.get(id);
    if (known !== undefined) return known;
    const f = byId.get(id)!.callFrame;
    const up = parent.get(id);
    const r = (f.functionName === fn && sourceOf(f).includes(where)) || (up !== undefined && holds(up));
    hits.set(id, r);
    return r;
  };
  const times = sampleTimes(p);
  let span: [number, number] | null = null;
  for (let i = 0; i < p.samples.length; i++) {
    if (!holds(p.samples[i])) continue;
    span = span ? [span[0], times[i]] : [times[i], times[i]];
  }
  return span;
}

function summarize(file: string, top: number, window: [number, number] | null): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const times = sampleTimes(p);
  // timeDeltas[i] is the time before sample i; the time a sample stands for is the next delta.
  for (let i = 0; i < p.samples.length; i++) {
    if (window && (times[i] < window[0] || times[i] > window[1])) continue;
    const us = p.timeDeltas[i + 1] ?? 0;
    selfUs.set(p.samples[i], (selfUs.get(p.samples[i]) ?? 0) + us);
  }
  const bySource = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    totalUs += us;
    if (frame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const source = sourceOf(frame);
    bySource.set(source, (bySource.get(source) ?? 0) + us);
    const fn = `${frame.functionName || '(anonymous)'} ${source}:${frame.lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  }
  const busyUs = totalUs - idleUs;
  const ms = (us: number) => (us / 1000).toFixed(1).padStart(9);
  const pct = (us: number) => `${((100 * us) / Math.max(busyUs, 1)).toFixed(1).padStart(5)} %`;
  const spanUs = window ? window[1] - window[0] : p.endTime - p.startTime;
  const lines = [
    `${basename(file)}: ${(totalUs / 1e6).toFixed(1)} s sampled${window ? ` in a ${(spanUs / 1e6).toFixed(2)} s window` : ''}, busy ${ms(busyUs).trim()} ms = ${((100 * busyUs) / spanUs).toFixed(1)} % of a core`,
  ];
  lines.push('  by source (self ms, % of busy):');
  for (const [s, us] of [...bySource].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${ms(us)} ${pct(us)}  ${s}`);
  lines.push('  by function:');
  for (const [f, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${ms(us)} ${pct(us)}  ${f}`);
  return lines.join('\n');
}

const args = process.argv.slice(2);
let top = 25;
let during: [string, string] | null = null;
const inputs: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--top') top = Number(args[++i]);
  else if (args[i] === '--during') {
    const [fn, where = ''] = (args[++i] ?? '').split('@');
    during = [fn, where];
  } else inputs.push(args[i]);
}
if (inputs.length === 0 || !(top > 0) || (during && !during[0])) {
  process.stderr.write('usage: node --import tsx bench/profile-summary.ts <dir-or-file.cpuprofile>… [--top 25] [--during send@handlers.ts]\n');
  process.exit(2);
}
const files = inputs.flatMap((p) =>
  statSync(p).isDirectory()
    ? readdirSync(p)
        .filter((f) => f.endsWith('.cpuprofile'))
        .sort()
        .map((f) => join(p, f))
    : [p],
);
let window: [number, number] | null = null;
if (during) {
  for (const f of files) {
    const span = spanOf(JSON.parse(readFileSync(f, 'utf8')) as CpuProfile, during[0], during[1]);
    if (span) window = window ? [Math.min(window[0], span[0]), Math.max(window[1], span[1])] : span;
  }
  if (!window) {
    process.stderr.write(`no sample holds ${during.join('@')}\n`);
    process.exit(1);
  }
}
for (const f of files) process.stdout.write(`${summarize(f, top, window)}\n\n`);
