/** The shapes every mapping protocol client (PCP, NAT-PMP, UPnP IGD) shares. */

export type MappingProtocol = 'pcp' | 'natpmp' | 'upnp-igd2' | 'upnp-igd1';

/** One TCP port forward to ask for. */
export interface MapRequest {
  internalPort: number;
  /** The external port wanted; the router may grant another (NAT-PMP/PCP) or refuse. */
  externalPort: number;
  /** Requested lease, seconds (0 = permanent, only after a UPnP 725). */
  leaseSeconds: number;
  /** Shown in the router's table (UPnP only); also how a stale one of ours is recognised. */
  description: string;
}

/** What the router granted. */
export interface GrantedMapping {
  internalPort: number;
  externalPort: number;
  /** The lease the router actually granted, seconds; 0 = permanent. Renewal runs at half of it. */
  lifetimeSeconds: number;
}

/** A router that answered one mapping protocol. Every call is bounded by the client's timeout. */
export interface MappingClient {
  readonly protocol: MappingProtocol;
  /** The router's LAN address. */
  readonly gateway: string;
  /** This host's address on the router's LAN (the internal client of every mapping). */
  readonly internalAddress: string;
  /** The router's external address, or null when it reports none. */
  externalAddress(): Promise<string | null>;
  add(request: MapRequest): Promise<GrantedMapping>;
  remove(mapping: { internalPort: number; externalPort: number }): Promise<void>;
}

/** A mapping as seen in the router's table (UPnP GetSpecific/GenericPortMappingEntry). */
export interface RouterTableEntry {
  externalPort: number;
  internalPort: number;
  internalClient: string;
  description: string;
  leaseSeconds: number;
  enabled: boolean;
}
