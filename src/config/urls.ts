/** The addresses a configured server is reached at: for printed links and the start banner. */
import { localAddresses, isLoopbackHost } from '../tls/addresses.ts';
import type { Config } from './schema.ts';

type UrlConfig = Pick<Config, 'host' | 'port' | 'publicUrl' | 'tls' | 'behindProxy'>;

function scheme(c: UrlConfig): 'http' | 'https' {
  return c.tls.mode === 'off' ? 'http' : 'https';
}

function hostPart(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

/**
 * The base URL in links: publicUrl when set; else https://localhost:<port>, or
 * http://127.0.0.1:<port> with tls off (a secure context without TLS). `port` overrides
 * config.port once the real port is known (port 0).
 */
export function baseUrl(c: UrlConfig, port = c.port): string {
  if (c.publicUrl) return c.publicUrl.replace(/\/+$/, '');
  return localUrl(c, port);
}

/** The address to use on this computer. */
export function localUrl(c: UrlConfig, port = c.port): string {
  if (c.tls.mode === 'off') {
    const host = isWildcard(c.host) || c.host === 'localhost' ? '127.0.0.1' : c.host;
    return `http://${hostPart(host)}:${port}`;
  }
  const host = isWildcard(c.host) || isLoopbackHost(c.host) ? 'localhost' : c.host;
  return `${scheme(c)}://${hostPart(host)}:${port}`;
}

/**
 * Addresses other devices on the LAN can use: every non-internal IPv4 address for 0.0.0.0, plus
 * global IPv6 ones for ::, or the one bound address. None with tls off (plain HTTP is not a secure
 * context off this computer) or a loopback bind.
 */
export function lanUrls(c: UrlConfig, port = c.port): string[] {
  if (c.tls.mode === 'off' || isLoopbackHost(c.host)) return [];
  if (!isWildcard(c.host)) return [];
  const { ipv4, ipv6 } = localAddresses();
  const hosts = c.host === '::' ? [...ipv4, ...ipv6] : ipv4;
  return hosts.map((h) => `${scheme(c)}://${hostPart(h)}:${port}`);
}
