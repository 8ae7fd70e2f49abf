/** The plain-text table run.ts prints: headline figures, floor vs project, ratio and target. */
import { ratioName, type Summary } from './aggregate.ts';

interface Row {
  figure: string;
  label: string;
  format: (v: number) => string;
}

const kb = (v: number) => `${(v / 1024).toFixed(2)} KB`;
const mb = (v: number) => `${(v / 1048576).toFixed(1)} MB`;
const ms = (v: number) => `${v.toFixed(v < 10 ? 2 : 1)} ms`;
const us = (v: number) => `${v.toFixed(1)} µs`;
const pct = (v: number) => `${v.toFixed(1)} %`;
const perSec = (v: number) => `${Math.round(v)}/s`;

function rowsFor(s: Summary): Row[] {
  const names = new Set([...Object.keys(s.figures.floor), ...Object.keys(s.figures.project)]);
  const rows: Row[] = [];
  const add = (figure: string, label: string, format: Row['format']) => {
    if (names.has(figure)) rows.push({ figure, label, format });
  };
  const n = s.figures.floor['idle.connections'] ?? s.figures.project['idle.connections'];
  add('idle.rssPerConnectionBytes', `idle: RSS per connection @${n}`, kb);
  add('idle.heapPerConnectionBytes', `idle: heap per connection @${n}`, kb);
  add('idle.serverRssBytes', `idle: server RSS @${n}`, mb);
  add('idle.connectRatePerSec', 'idle: connects (last stage)', perSec);
  add('idle.controlFramesPerClient', 'idle: non-msg frames per client', (v) => v.toFixed(1));
  add('fanout.cpuPerDeliveryUs', 'fanout: CPU per delivery (25+50)', us);
  const fanoutRates = [...names].map((k) => /^fanout\.r(\d+)\.cpuPerDeliveryUs$/.exec(k)?.[1]).filter(Boolean).map(Number).sort((a, b) => a - b);
  for (const r of fanoutRates) {
    add(`fanout.r${r}.cpuPerDeliveryUs`, `fanout ${r}/s: CPU per delivery`, us);
    add(`fanout.r${r}.serverCpuPct`, `fanout ${r}/s: server CPU`, pct);
    add(`fanout.r${r}.p50Ms`, `fanout ${r}/s: p50`, ms);
    add(`fanout.r${r}.p99Ms`, `fanout ${r}/s: p99`, ms);
    add(`fanout.r${r}.deliveredPct`, `fanout ${r}/s: delivered`, pct);
  }
  add('fanout.p99Ms', 'fanout: p99 @25/s', ms);
  add('fanout.maxSustainedRatePerSec', 'fanout: highest sustained rate', perSec);
  const roomRates = [...names].map((k) => /^rooms\.r(\d+)\.cpuPerDeliveryUs$/.exec(k)?.[1]).filter(Boolean).map(Number).sort((a, b) => a - b);
  for (const r of roomRates) {
    add(`rooms.r${r}.serverCpuPct`, `rooms ${r}/s/client: server CPU`, pct);
    add(`rooms.r${r}.cpuPerDeliveryUs`, `rooms ${r}/s/client: CPU per delivery`, us);
    add(`rooms.r${r}.p50Ms`, `rooms ${r}/s/client: p50`, ms);
    add(`rooms.r${r}.p99Ms`, `rooms ${r}/s/client: p99`, ms);
    add(`rooms.r${r}.deliveredPct`, `rooms ${r}/s/client: delivered`, pct);
    add(`rooms.r${r}.loopDelayMaxMs`, `rooms ${r}/s/client: worst loop delay`, ms);
  }
  add('rooms.cpuPct', 'rooms: server CPU @1/s/client', pct);
  add('rooms.loopStallMaxMs', 'rooms: worst loop stall (all reps)', ms);
  return rows;
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

/** The table as lines of text. */
export function renderTable(s: Summary): string {
  const targetByRatio = new Map(s.targets.map((t) => [t.name, t]));
  const lines: string[] = [];
  const header = `${pad('figure', 40)} ${pad('floor', 11, true)} ${pad('project', 11, true)} ${pad('ratio', 7, true)}  target`;
  lines.push(header, '-'.repeat(header.length + 14));
  for (const row of rowsFor(s)) {
    const f = s.figures.floor[row.figure];
    const p = s.figures.project[row.figure];
    const rn = ratioName(row.figure);
    const ratio = s.ratios[rn];
    const t = targetByRatio.get(rn) ?? targetByRatio.get(`project.${row.figure}`);
    const verdict = t ? `${t.name.startsWith('project.') ? '≤ ' + t.limit + ' ms' : '≤ ' + t.limit + '×'} ${t.pass === null ? 'n/a' : t.pass ? 'ok' : 'MISS'}` : '';
    lines.push(
      `${pad(row.label, 40)} ${pad(f === undefined ? '–' : row.format(f), 11, true)} ${pad(p === undefined ? '–' : row.format(p), 11, true)} ${pad(ratio === undefined ? '–' : ratio.toFixed(2) + '×', 7, true)}  ${verdict}`,
    );
  }
  lines.push('', 'targets:');
  for (const t of s.targets) {
    const v = t.value === null ? 'n/a' : t.value.toFixed(3);
    lines.push(`  ${t.pass === null ? 'n/a ' : t.pass ? 'ok  ' : 'MISS'} ${pad(t.name, 32)} ${pad(v, 8, true)} ≤ ${t.limit}   (${t.why})`);
  }
  return lines.join('\n');
}
