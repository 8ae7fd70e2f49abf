/**
 * Builds the Fastify app: plugins, hooks and routes. It never listens (listen.ts owns ports, TLS
 * and signals). No request logging, ever: Fastify's logger stays off.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import type { ResolvedConfig } from '../config/schema.ts';
import { createHub } from '../realtime/hub.ts';
import { webRoot as builtWebRoot } from '../paths.ts';
import type { AppDeps, EventLog } from './context.ts';
import { installSecurityHeaders } from './plugins/security-headers.ts';
import { TLS_SERVER_OPTIONS } from '../tls/policy.ts';
import { installAuthentication } from './plugins/authenticate.ts';
import { installValidation } from './plugins/validation.ts';
import { installErrorHandling } from './plugins/errors.ts';
import { registerWebClient } from './plugins/web-client.ts';
import { createAuthLimiters } from './routes/auth-limits.ts';
import { authRoutes } from './routes/auth.ts';
import { inviteRoutes } from './routes/invites.ts';
import { conversationRoutes } from './routes/conversations.ts';
import { serverRoutes } from './routes/servers.ts';
import { groupRoutes } from './routes/groups.ts';
import { healthRoutes } from './routes/health.ts';
import { wsRoutes } from './routes/ws.ts';
import { blobRoutes } from './routes/blobs.ts';
import { mlsRoutes } from './routes/mls.ts';

/** Largest JSON body accepted, bytes (64 KiB: the API carries no message bodies or files). */
export const BODY_LIMIT_BYTES = 64 * 1024;
/** Idle keep-alive, ms: above the 60 s that common proxies and browsers use, so the server is not the one to cut. */
const KEEP_ALIVE_TIMEOUT_MS = 72_000;

const silentLog: EventLog = { event() {} };

export interface BuildAppOptions {
  /** Serve HTTPS with this certificate (also turns HSTS on). */
  https?: { key: string | Buffer; cert: string | Buffer };
  /** The built web client; defaults to dist/web. */
  webRoot?: string;
}

/** The base URL for printed links when config.publicUrl is empty. */
function derivedBaseUrl(config: ResolvedConfig, tls: boolean): string {
  const wildcard = config.host === '0.0.0.0' || config.host === '::';
  const host = wildcard ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
  return `${tls ? 'https' : 'http'}://${host}:${config.port}`;
}

/** Registers every plugin and route for this config; the caller listens and closes the store. */
export async function buildApp(config: ResolvedConfig, deps: AppDeps, opts: BuildAppOptions = {}): Promise<FastifyInstance> {
  const tls = Boolean(opts.https) || (config.behindProxy && config.publicUrl.startsWith('https://'));
  const app = Fastify({
    logger: false,
    requestTimeout: config.limits.requestTimeoutMs,
    connectionTimeout: config.limits.requestTimeoutMs,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    bodyLimit: BODY_LIMIT_BYTES,
    // X-Forwarded-* (client address, scheme, host) is believed only behind a proxy, and only from
    // the proxies listed in trustedProxies (addresses or CIDR ranges): anyone else could forge it.
    trustProxy: config.behindProxy ? [...config.trustedProxies] : false,
    return503OnClosing: true,
    // TLS 1.2/1.3 with forward-secret AEAD suites only (src/tls/policy.ts); listen.ts swaps the
    // certificate live with setSecureContext.
    ...(opts.https ? { https: { ...TLS_SERVER_OPTIONS, key: opts.https.key, cert: opts.https.cert } } : {}),
  }) as unknown as FastifyInstance;

  app.decorate('deps', {
    store: deps.store,
    secrets: deps.secrets,
    hub: deps.hub ?? createHub(),
    log: deps.log ?? silentLog,
    now: deps.now ?? Date.now,
    baseUrl: deps.baseUrl ?? (config.publicUrl ? config.publicUrl.replace(/\/+$/, '') : derivedBaseUrl(config, tls)),
    config,
  });

  installSecurityHeaders(app, tls);
  // The API speaks JSON only: other bodies get 415 instead of reaching a schema as a string.
  app.removeContentTypeParser('text/plain');
  installValidation(app);
  installErrorHandling(app);
  await app.register(fastifyCookie);
  installAuthentication(app);

  const limiters = createAuthLimiters(config, app.deps.now);
  await app.register(healthRoutes);
  await app.register(authRoutes, { limiters });
  await app.register(inviteRoutes);
  await app.register(conversationRoutes);
  await app.register(serverRoutes);
  await app.register(groupRoutes);
  await app.register(wsRoutes);
  await app.register(blobRoutes);
  await app.register(mlsRoutes, { adversary: deps.mlsAdversary });
  await registerWebClient(app, opts.webRoot ?? builtWebRoot);
  return app;
}
