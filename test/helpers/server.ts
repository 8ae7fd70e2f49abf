/**
 * Starts a real chatroom server for a test: SQLite on disk in a fresh temp dir, HTTP on
 * 127.0.0.1:0 (tls off, which a loopback bind allows), torn down by `close()` (use t.after).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { withDefaults, resolveConfig, type PartialConfig } from '../../src/config/defaults.ts';
import { openStore } from '../../src/store/index.ts';
import { buildApp } from '../../src/server/app.ts';
import type { Store } from '../../src/store/types.ts';
import type { Secrets } from '../../src/config/schema.ts';

export interface TestServer {
  url: string;
  /** ws://… of the WebSocket endpoint. */
  wsUrl: string;
  origin: string;
  app: FastifyInstance;
  store: Store;
  dir: string;
  close(opts?: { keepDir?: boolean }): Promise<void>;
}

export async function startTestServer(partial: PartialConfig = {}, opts: { dir?: string; host?: string } = {}): Promise<TestServer> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'chatroom-test-'));
  const host = opts.host ?? '127.0.0.1';
  const config = resolveConfig(withDefaults({ host, port: 0, httpPort: 0, upnp: false, ...partial, tls: { mode: 'off', ...partial.tls } }), dir);
  const secrets: Secrets = { saltKey: randomBytes(32).toString('base64'), addressKey: randomBytes(32).toString('base64') };
  const store = await openStore(config);
  await store.migrate();
  const app = await buildApp(config, { store, secrets });
  await app.listen({ host, port: 0 });
  const addr = app.server.address();
  if (!addr || typeof addr === 'string') throw new Error('no address');
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const url = `http://${hostPart}:${addr.port}`;
  app.deps.baseUrl = url;
  return {
    url,
    wsUrl: `ws://${hostPart}:${addr.port}/ws`,
    origin: url,
    app,
    store,
    dir,
    async close({ keepDir = false } = {}) {
      await app.close();
      await store.close();
      if (!keepDir && !opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
