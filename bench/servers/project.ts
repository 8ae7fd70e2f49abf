/**
 * The project under test: the real chatroom server (buildApp + the SQLite store on disk in a temp
 * dir, tls off, 127.0.0.1:0) in bench mode. Accounts, sessions and conversations for the
 * scenario's layout are created directly in the store, with session tokens derived from the
 * run's seed (bench/lib/layout.ts); rate and per-address connection limits are raised so thousands
 * of loopback clients are not refused. Prints one ready line; SIGUSR2 and SIGTERM as harness.ts.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { withDefaults, resolveConfig } from '../../src/config/defaults.ts';
import { openSqliteStore } from '../../src/store/index.ts';
import { buildApp } from '../../src/server/app.ts';
import { hashToken } from '../../src/server/auth/tokens.ts';
import type { Secrets } from '../../src/config/schema.ts';
import type { Store } from '../../src/store/types.ts';
import { clientName, clientToken, DATA_DIR_ENV, roomCount, type Layout } from '../lib/layout.ts';
import { announceReady, installHarness, readBenchEnv } from './harness.ts';

/** Far above anything a bench client does, per connection and per address. */
const UNLIMITED = 1_000_000;
/** Bench sessions outlive any run, ms. */
const SESSION_TTL_MS = 24 * 3600 * 1000;
/** Store calls in flight while creating fixtures. */
const SETUP_BATCH = 200;

const env = readBenchEnv();
const dataDir = process.env[DATA_DIR_ENV];
if (!dataDir) throw new Error(`bench project server: set ${DATA_DIR_ENV} (bench/run.ts does)`);
const started = performance.now();
mkdirSync(dataDir, { recursive: true, mode: 0o700 });

const host = '127.0.0.1';
const config = resolveConfig(
  withDefaults({
    host,
    port: 0,
    httpPort: 0,
    upnp: false,
    tls: { mode: 'off' },
    retentionDays: 'forever',
    limits: { messagesPerSecond: UNLIMITED, connectionsPerIp: UNLIMITED },
  }),
  dataDir,
);
const secrets: Secrets = { saltKey: randomBytes(32).toString('base64'), addressKey: randomBytes(32).toString('base64') };
const store = await openSqliteStore(config.dataPath);
await store.migrate();

async function inBatches(count: number, make: (i: number) => Promise<void>): Promise<void> {
  for (let from = 0; from < count; from += SETUP_BATCH) {
    await Promise.all(Array.from({ length: Math.min(SETUP_BATCH, count - from) }, (_, k) => make(from + k)));
  }
}

/** One user and one session per client; one channel of everyone, or groups of `roomSize`. */
async function createFixtures(s: Store, layout: Layout, seed: string): Promise<string[]> {
  const userIds: string[] = new Array(layout.clients);
  const now = Date.now();
  await inBatches(layout.clients, async (i) => {
    const user = await s.createUser({ username: clientName(i), role: i === 0 ? 'owner' : 'member', salt: new Uint8Array(16), iterations: 1, verifier: 'bench-no-login' });
    userIds[i] = user.id;
    await s.createSession({ tokenHash: hashToken(clientToken(seed, i)), userId: user.id, createdAt: now, expiresAt: now + SESSION_TTL_MS });
  });
  if (layout.kind === 'channel') {
    const { server, general } = await s.createServer({ name: 'bench', ownerId: userIds[0], isDefault: true });
    await inBatches(layout.clients - 1, (i) => s.addServerMember(server.id, userIds[i + 1]));
    return [general.id];
  }
  const convs: string[] = new Array(roomCount(layout));
  await inBatches(convs.length, async (r) => {
    const members = userIds.slice(r * layout.roomSize, (r + 1) * layout.roomSize);
    convs[r] = (await s.createGroup({ name: `room ${r}`, createdBy: members[0], memberIds: members })).id;
  });
  return convs;
}

const convs = await createFixtures(store, env.layout, env.seed);
const app = await buildApp(config, { store, secrets });
await app.listen({ host, port: 0 });
const addr = app.server.address();
if (!addr || typeof addr === 'string') throw new Error('bench project server: no TCP address');
app.deps.baseUrl = `http://${host}:${addr.port}`;

installHarness(
  env.statsFile,
  async () => {
    await app.close();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  },
  () => ({ ...store.stats() }),
);
announceReady({ port: addr.port, convs, setupMs: Math.round(performance.now() - started) });
