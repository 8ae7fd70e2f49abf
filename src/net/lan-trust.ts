/**
 * What chatroom accepts from devices on the LAN before it sends them anything: any device can
 * answer an SSDP M-SEARCH and name any URL, so only the default gateway (the router PCP and
 * NAT-PMP already talk to) is believed, and only at a private IPv4 address over plain http://.
 * Without this a LAN device could make `chatroom start` POST to a loopback-only service.
 */
import { isIPv4 } from 'node:net';
import { ipv4ToNumber } from './address-class.ts';

/** RFC 1918: where a home router's LAN side lives. Loopback, link-local, multicast and public are out. */
const PRIVATE_LAN: Array<[network: string, prefixBits: number]> = [
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
];

/** True for an IPv4 address in 10/8, 172.16/12 or 192.168/16. */
export function isPrivateLanIPv4(address: string): boolean {
  if (!isIPv4(address)) return false;
  const n = ipv4ToNumber(address);
  return PRIVATE_LAN.some(([net, bits]) => {
    const start = ipv4ToNumber(net);
    return n >= start && n < start + 2 ** (32 - bits);
  });
}

/**
 * The URL when it is one chatroom may send requests to: http:// (no credentials) at the default
 * `gateway`, which must itself be a private LAN address; otherwise null.
 */
export function trustedRouterUrl(url: string, gateway: string | null): URL | null {
  if (!gateway || !isPrivateLanIPv4(gateway)) return null;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== 'http:' || u.username || u.password || u.hostname !== gateway) return null;
  return u;
}

/**
 * Text a router chose (friendly name, mapping description, SOAP values), minus C0, DEL and C1
 * control characters: with ESC gone no escape sequence can reach a terminal, and JSON output
 * carries no raw controls.
 */
export function routerText(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, '');
}
