/**
 * Types shared by the server's plugins and routes: what buildApp gets, and what authentication
 * attaches to each request.
 */
import type { ResolvedConfig, Secrets } from '../config/schema.ts';
import type { Store } from '../store/types.ts';
import type { Hub } from '../realtime/types.ts';
import type { MlsAdversary } from './mls/adversary.ts';

/** The operational log: allow-listed event codes with non-identifying fields only. */
export interface EventLog {
  /** e.g. event('server.listening', { port: 8443 }). Never an IP, user agent, username or body. */
  event(code: string, fields?: Record<string, string | number | boolean>): void;
}

export interface AppDeps {
  store: Store;
  secrets: Secrets;
  /** Defaults to a new in-process hub. */
  hub?: Hub;
  log?: EventLog;
  /** ms since the Unix epoch; tests may move time. */
  now?: () => number;
  /** The base URL printed in links (https://host:port); defaults from config. */
  baseUrl?: string;
  /**
   * Tests only: makes the MLS delivery service misbehave (src/server/mls/adversary.ts). Never set
   * from config, environment or HTTP.
   */
  mlsAdversary?: MlsAdversary;
}

/** Attached to every request by the auth plugin (onRequest), before any route or WS upgrade. */
export interface AuthContext {
  userId: string;
  username: string;
  role: 'owner' | 'admin' | 'member';
  /** SHA-256 (hex) of the session token. */
  sessionHash: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext | null;
  }
  interface FastifyInstance {
    deps: Required<Omit<AppDeps, 'baseUrl' | 'mlsAdversary'>> & { baseUrl: string; config: ResolvedConfig };
  }
}
