/**
 * Finds the router's mapping protocol, cheapest first: PCP (one UDP packet), then NAT-PMP (the
 * same port, older protocol), then UPnP IGD (SSDP multicast + HTTP), as Tailscale does.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { defaultGateway, localAddressTowards } from './gateway.ts';
import { NatpmpClient } from './natpmp-client.ts';
import { PcpClient } from './pcp-client.ts';
import type { MappingClient, MappingProtocol } from './types.ts';
import { UpnpClient } from './upnp-client.ts';

const PCP_GRACE_MS = 500;

export interface DiscoverOptions {
  /** The PCP nonce to map with (persisted per data directory). */
  pcpNonce: Buffer;
  /** Budget per probe, ms. */
  timeoutMs: number;
  /** Skip these (e.g. after one answered but could not map). */
  exclude?: MappingProtocol[];
}

export interface Discovery {
  gateway: string | null;
  localAddress: string | null;
  /** Every protocol that answered, in preference order. */
  clients: MappingClient[];
}

/**
 * Probes every protocol and returns those that answered (the first is the one to use; the
 * others are fallbacks when it cannot map). UPnP is only tried when PCP and NAT-PMP stay silent,
 * unless `all` asks for each (doctor reports each one).
 */
export async function discoverRouter(opts: DiscoverOptions & { all?: boolean }): Promise<Discovery> {
  const gateway = await defaultGateway(opts.timeoutMs);
  const localAddress = gateway ? await localAddressTowards(gateway) : null;
  const clients: MappingClient[] = [];
  const skip = new Set(opts.exclude ?? []);
  if (gateway && localAddress) {
    const pmp = skip.has('natpmp') ? Promise.resolve(null) : new NatpmpClient(gateway, localAddress, opts.timeoutMs).probe();
    const pcp = skip.has('pcp') ? Promise.resolve(null) : new PcpClient(gateway, localAddress, opts.pcpNonce, opts.timeoutMs).probe();
    // A PCP router answers both at once; when NAT-PMP has answered, a silent PCP gets 500 ms more, not the whole budget.
    const pcpOrGiveUp = Promise.race([pcp, pmp.then((r) => (r ? delay(PCP_GRACE_MS).then(() => null) : pcp))]);
    const [pcpProbe, pmpProbe] = await Promise.all([pcpOrGiveUp, pmp]);
    if (pcpProbe?.kind === 'pcp') clients.push(new PcpClient(gateway, localAddress, opts.pcpNonce, opts.timeoutMs));
    if (pmpProbe || pcpProbe?.kind === 'natpmp-only') clients.push(new NatpmpClient(gateway, localAddress, opts.timeoutMs));
  }
  if (clients.length === 0 || opts.all) {
    const upnp = await UpnpClient.discover({ localAddress, gateway, timeoutMs: opts.timeoutMs });
    if (upnp && !skip.has(upnp.protocol)) clients.push(upnp);
  }
  return { gateway, localAddress, clients };
}
