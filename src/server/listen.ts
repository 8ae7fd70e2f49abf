/**
 * Owns what buildApp does not: TLS material, ports, the HTTP→HTTPS redirect, the retention job and
 * an orderly close. Signals are the caller's (the `start` command) so that tests can drive it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ResolvedConfig, Secrets } from '../config/schema.ts';
import { ChatroomError } from '../shared/errors.ts';
import { openStore } from '../store/index.ts';
import { startRetention, type Retention } from '../store/retention.ts';
import { ensureSelfSignedCert } from '../tls/selfsigned.ts';
import { certNames } from '../tls/addresses.ts';
import { baseUrl as baseUrlOf, lanUrls, localUrl } from '../config/urls.ts';
import { buildApp } from './app.ts';
import { ensureSetupLink } from './invites.ts';
import type { EventLog } from './context.ts';

/** How long the redirect server waits for a request's headers, ms. */
const REDIRECT_HEADERS_TIMEOUT_MS = 10_000;

export interface StartServerOptions {
  log?: EventLog;
  /** The built web client; defaults to dist/web. */
  webRoot?: string;
  /** Steps worth showing a person while they wait (e.g. ordering a certificate); one line each. */
  progress?: (line: string) => void;
}

export interface RunningServer {
  /** Every URL the server answers on: local first, then LAN addresses. */
  urls: string[];
  localUrl: string;
  lanUrls: string[];
  /** The HTTPS (or, with tls off, HTTP) port actually bound. */
  port: number;
  /** The redirect port actually bound, or null when off. */
  httpPort: number | null;
  /** SHA-256 fingerprint of the self-signed certificate (colon hex). */
  fingerprint?: string;
  /** A fresh one-time admin setup link while no account exists, else null. */
  setupLink: string | null;
  /** Problems that did not stop the server (e.g. the HTTP redirect port is taken). */
  warnings: string[];
  /** Stops accepting, closes connections (WebSockets via the hub), the redirect server and the store. */
  close(): Promise<void>;
  /** Cuts every open connection now, so a pending close() finishes (the second Ctrl+C). */
  forceClose(): void;
}

/** Opens the store, builds the app and listens per config; throws PORT_IN_USE, CONFIG_INVALID, SCHEMA_TOO_NEW. */
export async function startServer(config: ResolvedConfig, secrets: Secrets, opts: StartServerOptions = {}): Promise<RunningServer> {
  const log = opts.log ?? { event() {} };
  if (config.tls.mode === 'acme' || config.tls.mode === 'files') {
    throw new ChatroomError(
      'CONFIG_INVALID',
      `${join(config.configDir, 'chatroom.yaml')}: \`tls.mode: ${config.tls.mode}\` is not supported yet by this version of chatroom. ` +
        'Use tls.mode: self-signed (works on your LAN), or tls.mode: off with behindProxy: true behind a reverse proxy that adds HTTPS; e.g. tls: { mode: self-signed }',
      { key: 'tls.mode' },
    );
  }

  let https: { key: string; cert: string } | undefined;
  let fingerprint: string | undefined;
  if (config.tls.mode === 'self-signed') {
    const cert = await ensureSelfSignedCert({ dir: join(config.dataPath, 'tls'), ...certNames(config) });
    https = { key: cert.key, cert: cert.cert };
    fingerprint = cert.fingerprint256;
    log.event(cert.regenerated ? 'tls.self_signed_created' : 'tls.self_signed_reused');
  }

  const store = await openStore(config);
  let app: FastifyInstance | null = null;
  let redirect: Server | null = null;
  let retention: Retention | null = null;
  const cleanup = async () => {
    retention?.stop();
    if (redirect) await closeHttp(redirect);
    if (app) await app.close();
    await store.close();
  };

  try {
    await store.migrate();
    app = await buildApp(config, { store, secrets, log, baseUrl: baseUrlOf(config) }, { https, webRoot: opts.webRoot });
    await listenOrExplain(() => app!.listen({ host: config.host, port: config.port }), config.host, config.port, 'port');
    const port = boundPort(app.server);
    app.deps.baseUrl = baseUrlOf(config, port);

    let httpPort: number | null = null;
    const warnings: string[] = [];
    if (https && config.httpPort !== 0) {
      const server = createRedirectServer(config, port);
      try {
        await listenOrExplain(() => new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(config.httpPort, config.host, () => {
            server.off('error', reject);
            resolve();
          });
        }), config.host, config.httpPort, 'httpPort');
        redirect = server;
        httpPort = boundPort(server);
      } catch (err) {
        // The redirect is a convenience while nothing needs port 80 traffic (no ACME yet): serve HTTPS anyway.
        if (!(err instanceof ChatroomError)) throw err;
        warnings.push(`No HTTP→HTTPS redirect: ${err.message}`);
        log.event('server.http_port_unavailable', { port: config.httpPort });
      }
    }

    retention = startRetention(store, config.retentionDays);
    const setup = await ensureSetupLink(store, app.deps.baseUrl, config.inviteTtlHours);
    log.event('server.listening', { port, mode: config.tls.mode, ...(httpPort ? { httpPort } : {}) });
    // Messages that aged out while the server was down go now, not an hour from now; the listen
    // does not wait for it (the store closes only after a purge under way finishes).
    const startupRetention = retention;
    setImmediate(() => {
      if (closing) return;
      startupRetention.runOnce().then(
        (purged) => log.event('retention.startup_purged', { purged }),
        () => log.event('retention.startup_failed'),
      );
    });

    const local = localUrl(config, port);
    const lan = lanUrls(config, port);
    let closing: Promise<void> | null = null;
    const openApp = app;
    const openRedirect = redirect;
    return {
      urls: [local, ...lan],
      localUrl: local,
      lanUrls: lan,
      port,
      httpPort,
      fingerprint,
      setupLink: setup?.url ?? null,
      warnings,
      close() {
        closing ??= cleanup().then(() => log.event('server.stopped'));
        return closing;
      },
      forceClose() {
        openApp.server.closeAllConnections();
        openRedirect?.closeAllConnections();
      },
    };
  } catch (err) {
    await cleanup().catch(() => {});
    throw err;
  }
}

function boundPort(server: Server | FastifyInstance['server']): number {
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('chatroom: the server has no TCP address');
  return addr.port;
}

async function listenOrExplain(listen: () => Promise<unknown>, host: string, port: number, key: 'port' | 'httpPort'): Promise<void> {
  try {
    await listen();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const flag = key === 'port' ? '--port' : '--http-port';
    if (code === 'EADDRINUSE') {
      throw new ChatroomError(
        'PORT_IN_USE',
        `Port ${port} is already in use by another program. Find it with: ss -ltnp 'sport = :${port}' (Linux), ` +
          `lsof -nP -iTCP:${port} -sTCP:LISTEN (macOS), netstat -ano | findstr :${port} (Windows); or choose another port with ${flag}` +
          `${key === 'httpPort' ? ' (0 turns the HTTP redirect off)' : ''}.`,
        { key, port },
      );
    }
    if (code === 'EACCES') {
      throw new ChatroomError(
        'CONFIG_INVALID',
        `Not allowed to listen on port ${port}: ports below 1024 need administrator rights. Use a port from 1024 up (e.g. ${flag} ${key === 'port' ? 8443 : 8080}); the router can still forward 443 to it.`,
        { key, port },
      );
    }
    if (code === 'EADDRNOTAVAIL') {
      throw new ChatroomError(
        'CONFIG_INVALID',
        `Cannot listen on ${host}: it is not an address of this computer. Use host: 0.0.0.0 (all IPv4 interfaces) or one of this computer's addresses, e.g. --host 0.0.0.0.`,
        { key: 'host' },
      );
    }
    throw err;
  }
}

/** Plain-HTTP server that sends browsers to HTTPS (301); ACME challenges get 404 until acme mode exists. */
function createRedirectServer(config: ResolvedConfig, httpsPort: number): Server {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    if (!path.startsWith('/')) return answer(res, 400, 'Bad request\n');
    if (path.startsWith('/.well-known/acme-challenge/')) return answer(res, 404, 'Not found\n');
    const target = redirectTarget(config, httpsPort, req.headers.host, path);
    if (!target) return answer(res, 400, 'Bad request\n');
    res.writeHead(301, { Location: target, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(`Moved to ${target}\n`);
  });
  server.headersTimeout = REDIRECT_HEADERS_TIMEOUT_MS;
  server.requestTimeout = REDIRECT_HEADERS_TIMEOUT_MS;
  return server;
}

/** Same host name, HTTPS port; publicUrl wins when set. Null for a Host header we will not echo. */
export function redirectTarget(config: Pick<ResolvedConfig, 'publicUrl'>, httpsPort: number, hostHeader: string | undefined, path: string): string | null {
  if (config.publicUrl) return config.publicUrl.replace(/\/+$/, '') + path;
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]{1,253})(?::\d{1,5})?$/.exec(hostHeader ?? '');
  if (!m) return null;
  return `https://${m[1]}${httpsPort === 443 ? '' : `:${httpsPort}`}${path}`;
}

function answer(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(text);
}

function closeHttp(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
