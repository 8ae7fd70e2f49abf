/**
 * `node --import tsx bench/perf-summary.ts <file.perf.data> [--top 20] [--tid N]`: where a
 * server's CPU went in a `perf record -g` of one step (`npm run bench -- --perf`), per thread:
 * samples (≈ ms at 999 Hz), self time by object (kernel, node, better_sqlite3.node, libc, JIT
 * code) and by symbol, and the frames most often on the stack (inclusive). Needs `perf script`.
 */
import { spawnSync } from 'node:child_process';

interface ThreadStats {
  comm: string;
  samples: number;
  byObject: Map<string, number>;
  bySymbol: Map<string, number>;
  inclusive: Map<string, number>;
}

const args = process.argv.slice(2);
let top = 20;
let onlyTid: number | null = null;
const files: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--top') top = Number(args[++i]);
  else if (args[i] === '--tid') onlyTid = Number(args[++i]);
  else files.push(args[i]);
}
if (files.length !== 1 || !(top > 0)) {
  process.stderr.write('usage: node --import tsx bench/perf-summary.ts <file.perf.data> [--top 20] [--tid N]\n');
  process.exit(2);
}

const script = spawnSync('perf', ['script', '-i', files[0], '-F', 'comm,tid,ip,sym,dso'], { encoding: 'utf8', maxBuffer: 1 << 30 });
if (script.status !== 0) {
  process.stderr.write(`perf script failed: ${script.stderr}\n`);
  process.exit(1);
}

/** `libfoo.so.6` from `(/usr/lib/x86_64-linux-gnu/libfoo.so.6)`; JIT maps become `JIT`. */
function objectName(dso: string): string {
  const path = dso.replace(/^\(|\)$/g, '');
  if (path.includes('/tmp/perf-')) return 'JIT (V8 generated code)';
  return path.slice(path.lastIndexOf('/') + 1) || path;
}

const threads = new Map<number, ThreadStats>();
let current: { tid: number; frames: Array<[string, string]> } | null = null;
const flush = () => {
  if (!current || current.frames.length === 0) return;
  const { tid, frames } = current;
  const t = threads.get(tid)!;
  t.samples++;
  const [selfSym, selfObj] = frames[0];
  t.byObject.set(selfObj, (t.byObject.get(selfObj) ?? 0) + 1);
  t.bySymbol.set(`${selfSym}  [${selfObj}]`, (t.bySymbol.get(`${selfSym}  [${selfObj}]`) ?? 0) + 1);
  for (const sym of new Set(frames.map(([s]) => s))) t.inclusive.set(sym, (t.inclusive.get(sym) ?? 0) + 1);
};
for (const line of script.stdout.split('\n')) {
  const head = /^(\S.*?)\s+(\d+)\s*$/.exec(line);
  if (head) {
    flush();
    const tid = Number(head[2]);
    if (!threads.has(tid)) threads.set(tid, { comm: head[1], samples: 0, byObject: new Map(), bySymbol: new Map(), inclusive: new Map() });
    current = { tid, frames: [] };
    continue;
  }
  const frame = /^\s+[0-9a-f]+\s+(.*)\s+(\(.*\))\s*$/.exec(line);
  if (frame && current) current.frames.push([frame[1].replace(/\+0x[0-9a-f]+$/, ''), objectName(frame[2])]);
}
flush();

const total = [...threads.values()].reduce((a, t) => a + t.samples, 0);
const pid = Math.min(...threads.keys());
const pct = (n: number, of: number) => `${((100 * n) / of).toFixed(1).padStart(5)} %`;
const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top);
process.stdout.write(`${files[0]}: ${total} samples (the lowest tid, ${pid}, is the main thread)\n`);
for (const [tid, t] of [...threads].sort((a, b) => b[1].samples - a[1].samples)) {
  process.stdout.write(`  ${String(t.samples).padStart(7)} ${pct(t.samples, total)}  ${t.comm}/${tid}${tid === pid ? ' (main)' : ''}\n`);
}
for (const [tid, t] of [...threads].sort((a, b) => b[1].samples - a[1].samples)) {
  if (onlyTid !== null ? tid !== onlyTid : t.samples < total * 0.05) continue;
  process.stdout.write(`\n== ${t.comm}/${tid}${tid === pid ? ' (main)' : ''}: ${t.samples} samples\n  self, by object:\n`);
  for (const [o, n] of sorted(t.byObject)) process.stdout.write(`  ${String(n).padStart(7)} ${pct(n, t.samples)}  ${o}\n`);
  process.stdout.write('  self, by symbol:\n');
  for (const [s, n] of sorted(t.bySymbol)) process.stdout.write(`  ${String(n).padStart(7)} ${pct(n, t.samples)}  ${s.slice(0, 140)}\n`);
  process.stdout.write('  on the stack (inclusive):\n');
  for (const [s, n] of sorted(t.inclusive)) process.stdout.write(`  ${String(n).padStart(7)} ${pct(n, t.samples)}  ${s.slice(0, 140)}\n`);
}
