/**
 * What the router's external (WAN) address says about reachability: a `public` address can be
 * reached from the internet, `cgnat` (100.64.0.0/10, RFC 6598) and `private` (RFC 1918 and other
 * non-routable ranges: another NAT in front of the router, "double NAT") cannot, `none` means the
 * router reported no usable address.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type ExternalClass = 'public' | 'cgnat' | 'private' | 'none';

/** [network, prefix length] pairs, IPv4. */
const CGNAT: Array<[string, number]> = [['100.64.0.0', 10]];
const PRIVATE: Array<[string, number]> = [
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['169.254.0.0', 16], // link-local: the router got no DHCP lease upstream, nothing routes here
  ['192.0.0.0', 24], // IETF protocol assignments (DS-Lite's B4 side uses 192.0.0.0/29)
  ['198.18.0.0', 15], // benchmarking, seen behind some carrier test gear
];
const NOT_AN_ADDRESS: Array<[string, number]> = [
  ['0.0.0.0', 8],
  ['127.0.0.0', 8],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, includes 255.255.255.255
];

/** Classifies an external address (IPv4 or IPv6; empty or null is `none`). */
export function classifyExternalAddress(address: string | null | undefined): ExternalClass {
  const a = (address ?? '').trim();
  if (isIPv4(a)) {
    const n = ipv4ToNumber(a);
    if (inAny(n, NOT_AN_ADDRESS)) return 'none';
    if (inAny(n, CGNAT)) return 'cgnat';
    if (inAny(n, PRIVATE)) return 'private';
    return 'public';
  }
  if (isIPv6(a)) {
    const lower = a.toLowerCase();
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
    if (mapped) return classifyExternalAddress(mapped[1]);
    if (lower === '::' || lower === '::1') return 'none';
    // fc00::/7 unique local and fe80::/10 link-local are not reachable from the internet.
    if (/^f[cd]/.test(lower) || /^fe[89ab]/.test(lower)) return 'private';
    return 'public';
  }
  return 'none';
}

/** True for 10/8, 172.16/12, 192.168/16 and the other non-public IPv4 ranges (CGNAT included). */
export function isNonPublicIPv4(address: string): boolean {
  return isIPv4(address) && classifyExternalAddress(address) !== 'public';
}

/** Dotted quad → unsigned 32-bit number. */
export function ipv4ToNumber(address: string): number {
  return address.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function inAny(n: number, ranges: Array<[string, number]>): boolean {
  return ranges.some(([net, bits]) => {
    const size = 2 ** (32 - bits);
    const start = ipv4ToNumber(net);
    return n >= start && n < start + size;
  });
}
