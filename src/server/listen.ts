/**
 * Owns what buildApp does not: TLS material, ports, the HTTP→HTTPS redirect, the retention job and
 * an orderly close. Signals are the caller's (the `start` command) so that tests can drive it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { FastifyInstance } from 'fastify';
import type { ResolvedConfig, Secrets } from '../config/schema.ts';
import { ChatroomError } from '../shared/errors.ts';
import { openStore } from '../store/index.ts';
import { startRetention, type Retention } from '../store/retention.ts';
import { createTlsRuntime, type TlsRuntime, type TlsRuntimeOptions } from '../tls/runtime.ts';
import { baseUrl as baseUrlOf, lanUrls, localUrl } from '../config/urls.ts';
import { buildApp } from './app.ts';
import { ensureSetupLink, useLinkFingerprint } from './invites.ts';
import { securityHeaders } from './plugins/security-headers.ts';
import type { EventLog } from './context.ts';

/** How long the redirect server waits for a request's headers, ms. */
const REDIRECT_HEADERS_TIMEOUT_MS = 10_000;
/** The plain-HTTP port serves no page, but its answers carry the same headers (never HSTS: that is for HTTPS answers only). */
const REDIRECT_SECURITY_HEADERS = securityHeaders(false);

export interface StartServerOptions {
  log?: EventLog;
  /** The built web client; defaults to dist/web. */
  webRoot?: string;
  /** Steps worth showing a person while they wait (e.g. ordering a certificate); one line each. */
  progress?: (line: string) => void;
  /** Test hooks for the certificate runtime (address check interval, order budget, names). */
  tls?: Omit<TlsRuntimeOptions, 'log' | 'progress'>;
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
  /** SHA-256 fingerprint (colon hex) while a self-signed certificate is served; follows regeneration. */
  readonly fingerprint: string | undefined;
  /** The live certificate state (null with tls off): its source, and refresh() for tests. */
  tls: TlsRuntime | null;
  /** A fresh one-time admin setup link while no account exists, else null. */
  setupLink: string | null;
  /** Problems that did not stop the server (the HTTP redirect port is taken, a certificate fallback and why). */
  warnings: string[];
  /** Stops accepting, closes connections (WebSockets via the hub), the redirect server and the store. */
  close(): Promise<void>;
  /** Cuts every open connection now, so a pending close() finishes (the second Ctrl+C). */
  forceClose(): void;
}

/** Opens the store, builds the app and listens per config; throws PORT_IN_USE, CONFIG_INVALID, SCHEMA_TOO_NEW. */
export async function startServer(config: ResolvedConfig, secrets: Secrets, opts: StartServerOptions = {}): Promise<RunningServer> {
  const log = opts.log ?? { event() {} };
  const tls = config.tls.mode === 'off' ? null : createTlsRuntime(config, { log, progress: opts.progress, ...opts.tls });

  const store = await openStore(config);
  let app: FastifyInstance | null = null;
  let redirect: Server | null = null;
  let retention: Retention | null = null;
  const cleanup = async () => {
    tls?.close();
    retention?.stop();
    if (redirect) await closeHttp(redirect);
    if (app) await app.close();
    await store.close();
  };

  try {
    await store.migrate();
    const warnings: string[] = [];
    // Until HTTPS listens (its port may be 0 = any), the redirect server learns it from here.
    let httpsPort = config.port;
    let httpPort: number | null = null;
    const bindHttp = async (): Promise<Server> => {
      const server = createRedirectServer(config, () => httpsPort, tls);
      await listenOrExplain(() => new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.httpPort, config.host, () => {
          server.off('error', reject);
          resolve();
        });
      }), config.host, config.httpPort, 'httpPort', config.tls.mode === 'acme');
      return server;
    };

    // ACME's HTTP-01 challenge arrives on the HTTP port: it must listen before ordering, and a busy port is fatal.
    if (config.tls.mode === 'acme') redirect = await bindHttp();
    if (tls) {
      await tls.load();
      warnings.push(...tls.notices);
    }

    app = await buildApp(config, { store, secrets, log, baseUrl: baseUrlOf(config) }, { https: tls?.pair ?? undefined, webRoot: opts.webRoot });
    await listenOrExplain(() => app!.listen({ host: config.host, port: config.port }), config.host, config.port, 'port');
    const port = boundPort(app.server);
    httpsPort = port;
    app.deps.baseUrl = linkBase(config, port);
    if (tls) tls.attach(app.server as unknown as HttpsServer);
    useLinkFingerprint(store, () => tls?.fingerprint);

    if (tls && config.tls.mode !== 'acme' && config.httpPort !== 0) {
      try {
        redirect = await bindHttp();
      } catch (err) {
        // Without ACME the redirect is a convenience: serve HTTPS anyway.
        if (!(err instanceof ChatroomError)) throw err;
        warnings.push(`No HTTP→HTTPS redirect: ${err.message}`);
        log.event('server.http_port_unavailable', { port: config.httpPort });
      }
    }

    if (redirect) httpPort = boundPort(redirect);
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
    const openRedirect = redirect as Server | null;
    return {
      urls: [local, ...lan],
      localUrl: local,
      lanUrls: lan,
      port,
      httpPort,
      get fingerprint() {
        return tls?.fingerprint;
      },
      tls,
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

/** Base of printed links. In acme mode without publicUrl: the domain, since the certificate names only it. */
function linkBase(config: ResolvedConfig, port: number): string {
  if (config.tls.mode !== 'acme' || config.publicUrl) return baseUrlOf(config, port);
  return `https://${config.tls.domain.toLowerCase()}${port === 443 ? '' : `:${port}`}`;
}

function boundPort(server: Server | FastifyInstance['server']): number {
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('chatroom: the server has no TCP address');
  return addr.port;
}

/** `acmeNeedsIt`: the HTTP port carries ACME challenges, so turning it off is no way out. */
async function listenOrExplain(listen: () => Promise<unknown>, host: string, port: number, key: 'port' | 'httpPort', acmeNeedsIt = false): Promise<void> {
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
          `${key !== 'httpPort' ? '' : acmeNeedsIt ? ' (tls.mode acme needs it: the certificate authority connects to it through port 80)' : ' (0 turns the HTTP redirect off)'}.`,
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

/** The HTTP-01 path prefix (RFC 8555 §8.3); tokens are base64url. */
const ACME_CHALLENGE = /^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]{1,256})$/;

/**
 * Plain-HTTP server that sends browsers to HTTPS (301) and answers ACME HTTP-01 challenges while
 * an order waits for them (404 otherwise). `httpsPort` is read per request: HTTPS may bind later.
 */
function createRedirectServer(config: ResolvedConfig, httpsPort: () => number, tls: Pick<TlsRuntime, 'challengeResponse'> | null): Server {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    if (!path.startsWith('/')) return answer(res, 400, 'Bad request\n');
    if (path.startsWith('/.well-known/acme-challenge/')) {
      const token = ACME_CHALLENGE.exec(path.split('?')[0])?.[1];
      const keyAuthorization = token ? tls?.challengeResponse(token) : undefined;
      return keyAuthorization ? answer(res, 200, keyAuthorization, 'application/octet-stream') : answer(res, 404, 'Not found\n');
    }
    const target = redirectTarget(config, httpsPort(), req.headers.host, path);
    if (!target) return answer(res, 400, 'Bad request\n');
    res.writeHead(301, { Location: target, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...REDIRECT_SECURITY_HEADERS });
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

function answer(res: ServerResponse, status: number, text: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', ...REDIRECT_SECURITY_HEADERS });
  res.end(text);
}

function closeHttp(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
