/** The names and addresses this computer answers on: for certificate SANs and the printed URLs. */
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';

export interface LocalAddresses {
  /** Non-internal IPv4 addresses (LAN). */
  ipv4: string[];
  /** Global or unique-local IPv6 addresses; link-local ones are left out (they need a zone id). */
  ipv6: string[];
}

/** Current LAN addresses from os.networkInterfaces(), sorted and without duplicates. */
export function localAddresses(): LocalAddresses {
  const ipv4 = new Set<string>();
  const ipv6 = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal) continue;
      if (a.family === 'IPv4') ipv4.add(a.address);
      else if (a.family === 'IPv6' && !/^fe[89ab]/i.test(a.address)) ipv6.add(a.address);
    }
  }
  return { ipv4: [...ipv4].sort(), ipv6: [...ipv6].sort() };
}

/** DNS names for this host: localhost, the hostname and `<hostname>.local` (mDNS). */
export function localHostnames(): string[] {
  const names = new Set(['localhost']);
  const host = hostname().toLowerCase();
  // Only names a certificate may carry: letters, digits, hyphens and dots.
  if (/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(host)) {
    names.add(host);
    if (!host.endsWith('.local') && !host.includes('.')) names.add(`${host}.local`);
  }
  return [...names];
}

/** True for 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1';
}

/** DNS names and addresses the self-signed certificate must cover on this computer. */
export function certNames(config: { host: string; tls: { domain: string } }): { dnsNames: string[]; ipAddresses: string[] } {
  const { ipv4, ipv6 } = localAddresses();
  const dnsNames = localHostnames();
  if (config.tls.domain) dnsNames.push(config.tls.domain.toLowerCase());
  const ipAddresses = ['127.0.0.1', '::1', ...ipv4, ...ipv6];
  if (isIP(config.host) && config.host !== '0.0.0.0' && config.host !== '::') ipAddresses.push(config.host);
  return { dnsNames: [...new Set(dnsNames)], ipAddresses: [...new Set(ipAddresses)] };
}
