/**
 * `node --import tsx bench/store-commit.ts [--rate 1000] [--seconds 5] [--rooms 200] [--checkpoint-poll-ms 100]`: the SQLite
 * store's group commit alone, without sockets: appendMessage (200-byte body, a client ref, the
 * sender's read position) at a steady rate into rooms of 5 on disk in a temp dir, then the CPU of
 * every thread of this process over the send window (% of one core, user + system; the main
 * thread's tid is the pid), transactions and the latency from append to commit. Isolates what
 * the rooms scenario's persistence costs; `--cpu-prof` profiles the commit worker too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openSqliteStore } from '../src/store/index.ts';
import { threadCpuSeconds, threadsBetween } from './lib/proc.ts';
import { LogHistogram } from './lib/histogram.ts';

/** Sends are paced on this timer, ms (as the load generator's steps). */
const TICK_MS = 2;
const ROOM_SIZE = 5;
const BODY_BYTES = 200;

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!(v > 0)) throw new Error(`--${name} needs a number > 0`);
  return v;
}
const rate = flag('rate', 1000);
const seconds = flag('seconds', 5);
const rooms = flag('rooms', 200);
/** The checkpoint worker's poll interval, ms (the store's default unless given). */
const checkpointPollMs = process.argv.includes('--checkpoint-poll-ms') ? flag('checkpoint-poll-ms', 100) : undefined;

const dir = mkdtempSync(join(tmpdir(), 'chatroom-store-bench-'));
const store = await openSqliteStore(dir, checkpointPollMs === undefined ? {} : { checkpoints: { pollMs: checkpointPollMs } });
try {
  await store.migrate();
  const members: string[][] = [];
  for (let r = 0; r < rooms; r++) {
    const ids: string[] = [];
    for (let m = 0; m < ROOM_SIZE; m++) {
      const u = await store.createUser({ username: `bench${r * ROOM_SIZE + m}`, role: r + m === 0 ? 'owner' : 'member', salt: new Uint8Array(16), iterations: 1, verifier: 'x' });
      ids.push(u.id);
    }
    const g = await store.createGroup({ name: `room ${r}`, createdBy: ids[0], memberIds: ids });
    members.push([g.id, ...ids]);
  }
  const body = randomBytes(BODY_BYTES);
  const latency = new LogHistogram();
  const total = Math.floor(rate * seconds);
  let sent = 0;
  let ref = 1;
  const pending: Promise<unknown>[] = [];
  const stats0 = { ...store.stats() };
  const threads0 = threadCpuSeconds(process.pid);
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - t0;
      const due = Math.min(total, Math.floor((elapsed * rate) / 1000));
      while (sent < due) {
        const k = sent++;
        const room = members[k % rooms];
        const sender = room[1 + (Math.floor(k / rooms) % ROOM_SIZE)];
        const at = performance.now();
        pending.push(
          store.appendMessage({ convId: room[0], senderId: sender, ts: Date.now(), body: Buffer.from(body), ref: String(ref++), senderHasRead: true }).then(() => latency.record(performance.now() - at)),
        );
      }
      if (elapsed >= seconds * 1000) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
  await Promise.all(pending);
  const wallS = (performance.now() - t0) / 1000;
  const threads = threadsBetween(threads0, threadCpuSeconds(process.pid), wallS);
  const stats = store.stats() as unknown as Record<string, number>;
  const delta = Object.fromEntries(Object.entries(stats).map(([k, v]) => [k, k.startsWith('max') ? v : v - ((stats0 as unknown as Record<string, number>)[k] ?? 0)]));
  const lat = latency.summary();
  const sum = threads.reduce((a, t) => a + t.userPct + t.systemPct, 0);
  process.stdout.write(`${sent} appends at ${rate}/s into ${rooms} rooms over ${wallS.toFixed(2)} s; commit latency p50 ${lat.p50Ms} ms, p99 ${lat.p99Ms} ms\n`);
  process.stdout.write(`store counters: ${JSON.stringify(delta)}\n`);
  process.stdout.write(`CPU, % of one core (user+system): total ${sum.toFixed(1)}; ${threads.map((t) => `${t.tid === process.pid ? 'main' : `${t.name}/${t.tid}`} ${t.userPct}+${t.systemPct}`).join(', ')}\n`);
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
