/**
 * A read-only look at the router for `chatroom doctor`: which protocols answer, the external
 * address, and (UPnP) the table entries for our ports. Nothing is created or changed: PCP is
 * asked with ANNOUNCE and a zero-lifetime MAP under a throwaway nonce (a delete of nothing),
 * NAT-PMP with opcode 0, UPnP with GetExternalIPAddress / GetSpecificPortMappingEntry.
 */
import { classifyExternalAddress, type ExternalClass } from './address-class.ts';
import { discoverRouter } from './discover.ts';
import { NatpmpClient } from './natpmp-client.ts';
import { PcpClient } from './pcp-client.ts';
import type { MappingClient, MappingProtocol, RouterTableEntry } from './types.ts';
import { UpnpClient } from './upnp-client.ts';

export interface RouterSurvey {
  gateway: string | null;
  localAddress: string | null;
  protocols: MappingProtocol[];
  /** UPnP friendly name, when UPnP answered. */
  upnpName: string | null;
  externalAddress: string | null;
  externalClass: ExternalClass;
  /** Which protocol reported the address. */
  addressFrom: MappingProtocol | null;
  /** UPnP only: the entry for each external port asked about (null = none). */
  entries: Map<number, RouterTableEntry | null>;
  upnp: UpnpClient | null;
}

/** Surveys the router; every request bounded by `timeoutMs`. Never throws for a silent router. */
export async function surveyRouter(opts: { timeoutMs: number; externalPorts: number[] }): Promise<RouterSurvey> {
  const found = await discoverRouter({ pcpNonce: Buffer.alloc(12, 0x5a), timeoutMs: opts.timeoutMs, all: true });
  const upnp = (found.clients.find((c) => c instanceof UpnpClient) as UpnpClient | undefined) ?? null;
  // Read-only sources first; PCP has no plain "what is my address" request.
  const order: MappingClient[] = [
    ...(upnp ? [upnp] : []),
    ...found.clients.filter((c) => c instanceof NatpmpClient),
    ...found.clients.filter((c) => c instanceof PcpClient),
  ];
  let externalAddress: string | null = null;
  let addressFrom: MappingProtocol | null = null;
  for (const c of order) {
    try {
      const a = await c.externalAddress();
      if (a) {
        externalAddress = a;
        addressFrom = c.protocol;
        break;
      }
    } catch {
      // try the next protocol
    }
  }
  const entries = new Map<number, RouterTableEntry | null>();
  if (upnp) {
    for (const port of new Set(opts.externalPorts)) {
      try {
        entries.set(port, await upnp.getEntry(port));
      } catch {
        // unknown: left out
      }
    }
  }
  return {
    gateway: found.gateway,
    localAddress: found.localAddress ?? upnp?.internalAddress ?? null,
    protocols: found.clients.map((c) => c.protocol),
    upnpName: upnp?.service.friendlyName || null,
    externalAddress,
    externalClass: classifyExternalAddress(externalAddress),
    addressFrom,
    entries,
    upnp,
  };
}
