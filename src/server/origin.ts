/**
 * The WebSocket Origin allow-list (cross-site WebSocket hijacking defence): the origin of
 * config.publicUrl, the request's own scheme + Host, and config.allowedOrigins.
 */
import type { Config } from '../config/schema.ts';

/** Normalizes to `scheme://host[:port]` (default ports dropped, lower case); null if not a URL. */
export function normalizeOrigin(value: string): string | null {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    return url.origin;
  } catch {
    return null;
  }
}

/** The configured origins, computed once per server. */
export function configuredOrigins(config: Pick<Config, 'publicUrl' | 'allowedOrigins'>): Set<string> {
  const out = new Set<string>();
  for (const value of [config.publicUrl, ...config.allowedOrigins]) {
    const origin = value ? normalizeOrigin(value) : null;
    if (origin) out.add(origin);
  }
  return out;
}

/**
 * True when `origin` (the Origin header) is allowed. `protocol` and `host` are the request's own
 * (Fastify's request.protocol and request.host, which honour trustProxy).
 */
export function isAllowedOrigin(origin: string | undefined, own: { protocol: string; host: string }, configured: Set<string>): boolean {
  if (!origin) return false;
  const normalized = normalizeOrigin(origin);
  if (!normalized) return false;
  if (configured.has(normalized)) return true;
  return normalized === normalizeOrigin(`${own.protocol}://${own.host}`);
}
