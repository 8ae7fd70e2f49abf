/**
 * Port-mapping failures in plain words. Every router answer that is not a success becomes a
 * MappingError whose `reason` drives the fallbacks (refused low port → same port as internal) and
 * whose message is what `start` and `doctor` print.
 */
import type { MappingProtocol } from './types.ts';

export type MappingFailure =
  /** No answer within the time budget (or the port is closed on the router). */
  | 'timeout'
  /** The router will not forward this external port (UPnP 606/724, NAT-PMP 2, PCP NOT_AUTHORIZED). */
  | 'refused'
  /** Another device already has this external port (UPnP 718). */
  | 'conflict'
  /** Only permanent leases (UPnP 725): retry with lease 0 and delete on exit. */
  | 'permanent-only'
  /** The router has no usable WAN address (UPnP 501, NAT-PMP 3, PCP NETWORK_FAILURE). */
  | 'no-wan'
  /** The router does not speak this protocol/version/opcode. */
  | 'unsupported'
  /** Anything else the router said. */
  | 'other';

export class MappingError extends Error {
  readonly reason: MappingFailure;
  readonly protocol: MappingProtocol | 'ssdp';
  /** The router's own code (UPnP error code, NAT-PMP/PCP result code), when there was one. */
  readonly routerCode: number | null;
  constructor(protocol: MappingProtocol | 'ssdp', reason: MappingFailure, message: string, routerCode: number | null = null) {
    super(message);
    this.name = 'MappingError';
    this.protocol = protocol;
    this.reason = reason;
    this.routerCode = routerCode;
  }
}

/** Plain-language text for a UPnP IGD error code (UPnP-arch-DeviceArchitecture and WANIPConnection:2 §2.4). */
export function upnpErrorText(code: number, externalPort?: number): { reason: MappingFailure; text: string } {
  const port = externalPort === undefined ? 'this port' : `external port ${externalPort}`;
  switch (code) {
    case 606:
      return { reason: 'refused', text: `the router refused to forward ${port} (UPnP 606: many routers only allow ports 1024 and above)` };
    case 718:
      return { reason: 'conflict', text: `the router already forwards ${port} to another device (UPnP 718)` };
    case 725:
      return { reason: 'permanent-only', text: 'the router only accepts permanent port mappings (UPnP 725)' };
    case 501:
      return { reason: 'no-wan', text: 'the router has no usable internet (WAN) address, so it cannot forward ports (UPnP 501)' };
    case 724:
      return { reason: 'refused', text: `the router only forwards a port to the same port number (UPnP 724)` };
    case 728:
      return { reason: 'refused', text: 'the router has no room for more port mappings (UPnP 728)' };
    case 729:
      return { reason: 'conflict', text: `${port} is already used by another forwarding mechanism on the router (UPnP 729)` };
    case 714:
      return { reason: 'other', text: 'the router has no such port mapping (UPnP 714)' };
    case 401:
    case 402:
      return { reason: 'unsupported', text: `the router does not support this UPnP action (UPnP ${code})` };
    default:
      return { reason: 'other', text: `the router answered UPnP error ${code}` };
  }
}

/** Plain-language text for a NAT-PMP result code (RFC 6886 §3.5). */
export function natpmpResultText(code: number): { reason: MappingFailure; text: string } {
  switch (code) {
    case 1:
      return { reason: 'unsupported', text: 'the router does not support this NAT-PMP version (result 1)' };
    case 2:
      return { reason: 'refused', text: 'the router refused the NAT-PMP request (result 2: not authorized or port mapping disabled)' };
    case 3:
      return { reason: 'no-wan', text: 'the router has no usable internet (WAN) address (NAT-PMP result 3: network failure)' };
    case 4:
      return { reason: 'refused', text: 'the router is out of port mappings (NAT-PMP result 4)' };
    case 5:
      return { reason: 'unsupported', text: 'the router does not support this NAT-PMP request (result 5)' };
    default:
      return { reason: 'other', text: `the router answered NAT-PMP result ${code}` };
  }
}

const PCP_RESULTS: Record<number, [MappingFailure, string]> = {
  1: ['unsupported', 'UNSUPP_VERSION'],
  2: ['refused', 'NOT_AUTHORIZED'],
  3: ['other', 'MALFORMED_REQUEST'],
  4: ['unsupported', 'UNSUPP_OPCODE'],
  5: ['unsupported', 'UNSUPP_OPTION'],
  6: ['other', 'MALFORMED_OPTION'],
  7: ['no-wan', 'NETWORK_FAILURE'],
  8: ['refused', 'NO_RESOURCES'],
  9: ['unsupported', 'UNSUPP_PROTOCOL'],
  10: ['refused', 'USER_EX_QUOTA'],
  11: ['refused', 'CANNOT_PROVIDE_EXTERNAL'],
  12: ['other', 'ADDRESS_MISMATCH'],
  13: ['refused', 'EXCESSIVE_REMOTE_PEERS'],
};

/** Plain-language text for a PCP result code (RFC 6887 §7.4). */
export function pcpResultText(code: number): { reason: MappingFailure; text: string } {
  const known = PCP_RESULTS[code];
  if (!known) return { reason: 'other', text: `the router answered PCP result ${code}` };
  const [reason, name] = known;
  const plain: Partial<Record<MappingFailure, string>> = {
    unsupported: 'the router does not support this PCP request',
    refused: 'the router refused the PCP mapping',
    'no-wan': 'the router has no usable internet (WAN) address',
  };
  return { reason, text: `${plain[reason] ?? 'the router rejected the PCP request'} (PCP ${name})` };
}

/** Text for a request that got no answer in `ms` milliseconds. */
export function timeoutText(what: string, ms: number): string {
  return `${what}: no answer from the router within ${(ms / 1000).toFixed(1)} s`;
}
