/**
 * Linux /proc readers: process CPU (utime + stime of every thread), resident memory, and the
 * machine-wide CPU split that tells us how busy the other tenants of this shared box are.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Kernel clock ticks per second for /proc times (`getconf CLK_TCK`; 100 on every Linux we run). */
export const CLOCK_TICKS_PER_SECOND = 100;

/** CPU seconds (user + system, all threads) the process has used so far. */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name in field 2 may contain spaces: fields are counted after its closing paren.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / CLOCK_TICKS_PER_SECOND;
}

/** User and system CPU seconds of one thread, with its kernel name (`/proc/<pid>/task/<tid>/comm`). */
export interface ThreadCpu {
  tid: number;
  name: string;
  userS: number;
  systemS: number;
}

/** Every thread of the process with its CPU so far; a thread that ended meanwhile is left out. */
export function threadCpuSeconds(pid: number): ThreadCpu[] {
  const threads: ThreadCpu[] = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      threads.push({ tid: Number(tid), name, userS: Number(fields[11]) / CLOCK_TICKS_PER_SECOND, systemS: Number(fields[12]) / CLOCK_TICKS_PER_SECOND });
    } catch {
      // The thread ended between readdir and read.
    }
  }
  return threads;
}

/** One thread's CPU between two readings, % of one core. */
export interface ThreadUse {
  tid: number;
  name: string;
  userPct: number;
  systemPct: number;
}

/** Threads that used at least `minPct` between the readings, busiest first (the main thread's tid is the pid). */
export function threadsBetween(a: ThreadCpu[], b: ThreadCpu[], wallS: number, minPct = 0.5): ThreadUse[] {
  const before = new Map(a.map((t) => [t.tid, t]));
  const pct = (s: number) => Math.round((1000 * s) / wallS) / 10;
  return b
    .map((t) => {
      const t0 = before.get(t.tid);
      return { tid: t.tid, name: t.name, userPct: pct(t.userS - (t0?.userS ?? 0)), systemPct: pct(t.systemS - (t0?.systemS ?? 0)) };
    })
    .filter((t) => t.userPct + t.systemPct >= minPct)
    .sort((x, y) => y.userPct + y.systemPct - (x.userPct + x.systemPct));
}

/** VmRSS of the process, bytes. */
export function processRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

/** Machine-wide CPU seconds since boot, summed over every core. */
export interface MachineCpu {
  /** user + nice + system + irq + softirq + steal. */
  busy: number;
  /** softirq alone: loopback TCP work is charged here, not to our processes. */
  softirq: number;
}

export function machineCpuSeconds(): MachineCpu {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return {
    busy: (user + nice + system + irq + softirq + steal) / CLOCK_TICKS_PER_SECOND,
    softirq: softirq / CLOCK_TICKS_PER_SECOND,
  };
}

/** A point-in-time reading of everything a step's CPU figures are computed from. */
export interface CpuSample {
  wallS: number;
  serverS: number;
  clientS: number;
  machine: MachineCpu;
}

/** Reads all clocks at once; `clientS` is this process's own CPU (µs resolution). */
export function sampleCpu(serverPid: number): CpuSample {
  const own = process.cpuUsage();
  return {
    wallS: performance.now() / 1000,
    serverS: processCpuSeconds(serverPid),
    clientS: (own.user + own.system) / 1e6,
    machine: machineCpuSeconds(),
  };
}

/** CPU use between two samples, as % of one core. `otherPct` may dip below 0 (see README). */
export interface CpuUse {
  serverPct: number;
  clientPct: number;
  softirqPct: number;
  otherPct: number;
  serverCpuS: number;
  wallS: number;
}

export function cpuBetween(a: CpuSample, b: CpuSample): CpuUse {
  const wallS = b.wallS - a.wallS;
  const pct = (s: number) => Math.round((1000 * s) / wallS) / 10;
  const serverS = b.serverS - a.serverS;
  const clientS = b.clientS - a.clientS;
  const softirqS = b.machine.softirq - a.machine.softirq;
  const otherS = b.machine.busy - a.machine.busy - serverS - clientS - softirqS;
  return { serverPct: pct(serverS), clientPct: pct(clientS), softirqPct: pct(softirqS), otherPct: pct(otherS), serverCpuS: serverS, wallS };
}
