/**
 * SSDP discovery of Internet Gateway Devices (UPnP Device Architecture 2.0 §1.3): an M-SEARCH
 * for IGD:2 and IGD:1 from an ephemeral port (not 1900, like miniupnpc), sent twice because UDP
 * multicast gets lost, on the interface that leads to the router.
 */
import { createSocket } from 'node:dgram';
import { trustedRouterUrl } from './lan-trust.ts';

export const SSDP_ADDRESS = '239.255.255.250';
export const SSDP_PORT = 1900;
export const IGD_TARGETS = ['urn:schemas-upnp-org:device:InternetGatewayDevice:2', 'urn:schemas-upnp-org:device:InternetGatewayDevice:1'] as const;

/** The M-SEARCH request for one search target; `mx` is the answer spread the devices use, seconds. */
export function encodeMSearch(searchTarget: string, mx = 1): Buffer {
  return Buffer.from(
    ['M-SEARCH * HTTP/1.1', `HOST: ${SSDP_ADDRESS}:${SSDP_PORT}`, 'MAN: "ssdp:discover"', `MX: ${mx}`, `ST: ${searchTarget}`, '', ''].join('\r\n'),
  );
}

export interface SsdpResponse {
  /** The device description URL. */
  location: string;
  searchTarget: string;
  usn: string;
}

/** Parses an M-SEARCH answer (`HTTP/1.1 200 OK` + headers), or null when it is not one. */
export function parseSsdpResponse(packet: Buffer | string): SsdpResponse | null {
  const text = packet.toString();
  const [status, ...lines] = text.split(/\r?\n/);
  if (!status || !/^HTTP\/1\.[01] 200\b/i.test(status)) return null;
  const headers = new Map<string, string>();
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  const location = headers.get('location');
  if (!location || !/^https?:\/\//i.test(location)) return null;
  return { location, searchTarget: headers.get('st') ?? '', usn: headers.get('usn') ?? '' };
}

export interface DiscoverOptions {
  /** This host's LAN address: the multicast leaves through that interface only. */
  localAddress: string | null;
  /**
   * The default gateway: only an answer whose LOCATION is http:// at this (private) address is
   * kept, since any device on the LAN can answer (see lan-trust.ts).
   */
  gateway: string | null;
  timeoutMs: number;
}

/** Distinct LOCATIONs kept, at most: the router has one or two; the rest would be a flood. */
const MAX_ANSWERS = 4;

/** The gateway's IGD descriptions that answered within the budget; stops early once one did. */
export function discoverIgd(opts: DiscoverOptions): Promise<SsdpResponse[]> {
  return new Promise((resolve) => {
    const socket = createSocket({ type: 'udp4', reuseAddr: false });
    const found = new Map<string, SsdpResponse>();
    const timers: NodeJS.Timeout[] = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      socket.close();
      resolve([...found.values()]);
    };
    socket.on('error', finish);
    socket.on('message', (packet) => {
      const res = parseSsdpResponse(packet);
      if (!res || !IGD_TARGETS.some((t) => res.searchTarget === t) || !trustedRouterUrl(res.location, opts.gateway)) return;
      if (!found.has(res.location) && found.size < MAX_ANSWERS) found.set(res.location, res);
      // The router itself answered: no need to wait for the rest of the window.
      setImmediate(finish);
    });
    socket.bind(0, opts.localAddress ?? undefined, () => {
      try {
        if (opts.localAddress) socket.setMulticastInterface(opts.localAddress);
        socket.setMulticastTTL(2);
      } catch {
        // an interface without multicast: the send below fails and the timeout reports nothing found
      }
      const send = () => {
        if (done) return;
        for (const st of IGD_TARGETS) socket.send(encodeMSearch(st), SSDP_PORT, SSDP_ADDRESS, () => {});
      };
      send();
      timers.push(setTimeout(send, Math.min(500, opts.timeoutMs / 3)));
      timers.push(setTimeout(finish, opts.timeoutMs));
    });
  });
}
