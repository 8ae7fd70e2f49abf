/**
 * Security headers on every response: set on the raw response as soon as a request arrives, so
 * they are present on API answers, HTML, static files, 404s, errors, Fastify's own early answers
 * and WebSocket upgrade rejections alike. Strict CSP: no inline script, no eval, no WASM.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Microphone and camera for calls and voice messages; nothing else. */
export const PERMISSIONS_POLICY = 'microphone=(self), camera=(self), geolocation=(), payment=(), usb=(), interest-cohort=()';

/** HSTS lifetime: one year, in seconds. */
const HSTS_MAX_AGE_S = 31_536_000;

/**
 * HSTS only where the certificate is one browsers trust (acme, files, or a proxy's). Not for
 * self-signed: HSTS forbids clicking through a certificate warning, and a self-signed certificate
 * is re-made when the LAN address changes, so a person who once installed it would be locked out
 * of `<hostname>.local` for a year. (Browsers ignore HSTS on IP addresses and on connections with
 * certificate errors anyway.) No includeSubDomains: other names under a home domain may lack TLS.
 */
export function hstsFitting(tls: boolean, mode: string): boolean {
  return tls && mode !== 'self-signed';
}

/** The header set; `hsts` adds Strict-Transport-Security (see hstsFitting). */
export function securityHeaders(hsts: boolean): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Permissions-Policy': PERMISSIONS_POLICY,
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'X-Frame-Options': 'DENY',
  };
  if (hsts) headers['Strict-Transport-Security'] = `max-age=${HSTS_MAX_AGE_S}`;
  return headers;
}

function apply(res: ServerResponse, headers: Record<string, string>): void {
  if (res.headersSent) return;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
}

/** Installs the headers on `app.server` (every HTTP request) and in onRequest (upgrade routing). */
export function installSecurityHeaders(app: FastifyInstance, tls: boolean): void {
  const headers = securityHeaders(hstsFitting(tls, app.deps.config.tls.mode));
  app.server.prependListener('request', (_req, res: ServerResponse) => apply(res, headers));
  // @fastify/websocket routes an upgrade through Fastify with a ServerResponse it creates itself.
  app.addHook('onRequest', async (request, reply) => {
    apply(reply.raw, headers);
    // API answers carry private data: never stored by the browser or a proxy.
    if (request.url.startsWith('/api/')) reply.header('Cache-Control', 'no-store');
  });
  // A route may send a stricter CSP of its own (blob downloads: default-src 'none'; sandbox), but
  // frame-ancestors does not fall back to default-src: keep framing forbidden whatever it says.
  app.addHook('onSend', async (_request, reply, payload) => {
    const csp = reply.getHeader('content-security-policy');
    if (typeof csp === 'string' && !/(^|;)\s*frame-ancestors\b/.test(csp)) reply.header('Content-Security-Policy', `${csp}; frame-ancestors 'none'`);
    return payload;
  });
}
