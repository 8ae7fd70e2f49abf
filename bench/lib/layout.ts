/**
 * Who is in which room, and each client's session token, derived the same way in the server
 * process (which creates the accounts) and the load generator (which connects as them). Tokens
 * come from a per-run random seed handed to both through the environment, so no token is ever
 * printed or written to disk.
 */
import { createHmac } from 'node:crypto';

/** How a scenario's clients are grouped. */
export interface Layout {
  clients: number;
  /** Clients per room; client i is in room floor(i / roomSize). */
  roomSize: number;
  /** A server channel (fan-out: one channel of every client) or groups (small rooms). */
  kind: 'channel' | 'group';
}

export function roomCount(layout: Layout): number {
  return Math.ceil(layout.clients / layout.roomSize);
}

export function roomOf(layout: Layout, client: number): number {
  return Math.floor(client / layout.roomSize);
}

/** Client i's session token: 43 base64url characters, like src/server/auth/tokens.ts newToken(). */
export function clientToken(seed: string, client: number): string {
  return createHmac('sha256', seed).update(`client:${client}`).digest('base64url');
}

/** Client i's username; the floor uses the same names so `msg` frames have the same size. */
export function clientName(client: number): string {
  return `bench${String(client).padStart(5, '0')}`;
}

/** The environment variable that carries the seed (never argv: that shows in `ps`). */
export const SEED_ENV = 'CHATROOM_BENCH_SEED';
/** The environment variable that carries the JSON Layout to the server. */
export const LAYOUT_ENV = 'CHATROOM_BENCH_LAYOUT';
/** The file the server writes its SIGUSR2 reports to. */
export const STATS_FILE_ENV = 'CHATROOM_BENCH_STATS_FILE';
/** The folder the project server keeps its SQLite database in. */
export const DATA_DIR_ENV = 'CHATROOM_BENCH_DATA_DIR';

/** What a server prints, as one JSON line on stdout, once it accepts connections. */
export interface ReadyLine {
  ready: true;
  port: number;
  /** Conversation id of each room, indexed by room number. */
  convs: string[];
  /** ms the server spent creating accounts, sessions and conversations. */
  setupMs: number;
}

/** What a server writes to the stats file on SIGUSR2 (after two forced GCs). */
export interface StatsReport {
  /** Increments with every report, so a reader can tell a fresh one from the last. */
  n: number;
  gc: boolean;
  memory: NodeJS.MemoryUsage;
  /** Event-loop delay since the previous report, ms (perf_hooks.monitorEventLoopDelay). */
  loop: { maxMs: number; p99Ms: number; meanMs: number };
  /** Running totals the server chooses to expose (the project: appendTransactions, appendedMessages, checkpoints). */
  counters: Record<string, number>;
}
