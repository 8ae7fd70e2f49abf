/**
 * A port-mapping session for one `chatroom start`: removes what a killed run left behind, maps
 * each wanted port (preferred external port first, then the same port as the internal one when
 * the router refuses, then any port on IGD:2), renews at half the granted lifetime, and removes
 * everything on close. Operations run one at a time, so close() always sees every mapping that
 * exists, including one whose request was in flight when the stop signal came.
 */
import { classifyExternalAddress, type ExternalClass } from './address-class.ts';
import { MappingError } from './errors.ts';
import { discoverRouter } from './discover.ts';
import { newNonce, NONCE_BYTES } from './pcp-codec.ts';
import { readNetworkState, updateNetworkState, type RecordedMapping } from './state.ts';
import type { MapRequest, MappingClient, MappingProtocol } from './types.ts';
import { UpnpClient } from './upnp-client.ts';

/** The description in the router's table; how a stale mapping of ours is recognised. */
export const MAPPING_DESCRIPTION = 'chatroom';
/** 30 min: inside the 20–60 min window, so a SIGKILLed run's mapping lapses soon. */
export const DEFAULT_LEASE_SECONDS = 1800;
/** Renewal delay bounds, seconds: a router granting 0–1 s must not make us spin, nor one granting 2^32 s overflow setTimeout (which then fires after 1 ms). */
export const MIN_RENEWAL_SECONDS = 30;
export const MAX_RENEWAL_SECONDS = 12 * 3600;

/**
 * When to renew a mapping the router granted for `grantedSeconds`, seconds: half of it, clamped to
 * [30 s, 12 h]. The floor drops to half of our own `requestedSeconds` when that is shorter (only
 * the netlab's short test leases are), so a short lease we asked for is still renewed in time.
 */
export function renewalDelaySeconds(grantedSeconds: number, requestedSeconds: number): number {
  const floor = Math.min(MIN_RENEWAL_SECONDS, Math.max(1, requestedSeconds / 2));
  const half = Number.isFinite(grantedSeconds) ? grantedSeconds / 2 : MAX_RENEWAL_SECONDS;
  return Math.min(MAX_RENEWAL_SECONDS, Math.max(floor, half));
}

export interface WantedPort {
  label: 'https' | 'http';
  internalPort: number;
  /** e.g. 443 for HTTPS, 80 for HTTP. */
  preferredExternalPort: number;
}

export type PortResult =
  | { label: 'https' | 'http'; ok: true; internalPort: number; externalPort: number; lifetimeSeconds: number; lowPortRefused: boolean; preferredTaken: boolean }
  | { label: 'https' | 'http'; ok: false; internalPort: number; error: MappingError };

export interface SessionEvents {
  /** A renewal failed (one call per failure streak); the mapping is retried. */
  renewFailed?: (label: 'https' | 'http', error: MappingError) => void;
  /** A renewal worked again after a failure, or the router moved the external port. */
  renewed?: (label: 'https' | 'http', externalPort: number, lifetimeSeconds: number) => void;
}

export interface SessionOptions {
  dataPath: string;
  leaseSeconds?: number;
  /** Budget per router request, ms. */
  timeoutMs?: number;
  events?: SessionEvents;
  /** Finds the routers to use, best first; default: discoverRouter() on this computer's network. */
  discover?: (pcpNonce: Buffer, timeoutMs: number) => Promise<MappingClient[]>;
}

interface Active {
  /** The protocol client that made it: renewal and removal go through the same one. */
  client: MappingClient;
  want: WantedPort;
  externalPort: number;
  lifetimeSeconds: number;
  /** The lease we asked for, seconds; 0 = permanent (after a UPnP 725): nothing to renew. */
  requestedSeconds: number;
  timer?: NodeJS.Timeout;
  failing: boolean;
}

export class MappingSession {
  readonly leaseSeconds: number;
  readonly timeoutMs: number;
  private client: MappingClient | null = null;
  private fallbacks: MappingClient[] = [];
  private readonly active = new Map<'https' | 'http', Active>();
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private nonce: Buffer;
  /** The router refused (or moved) a port below 1024 in this session: the next one skips asking. */
  private lowPortsRefused = false;

  constructor(private readonly opts: SessionOptions) {
    this.leaseSeconds = opts.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
    this.timeoutMs = opts.timeoutMs ?? 2000;
    const saved = readNetworkState(opts.dataPath).pcpNonce;
    this.nonce = saved && /^[0-9a-f]+$/i.test(saved) && saved.length === NONCE_BYTES * 2 ? Buffer.from(saved, 'hex') : newNonce();
    if (!saved || saved !== this.nonce.toString('hex')) updateNetworkState(opts.dataPath, (s) => void (s.pcpNonce = this.nonce.toString('hex')));
  }

  /** The protocol in use, once discovered. */
  get protocol(): MappingProtocol | null {
    return this.client?.protocol ?? null;
  }

  /**
   * Discovers the router and removes the mappings a previous, killed run left (those in the state
   * file, and on UPnP any `chatroom` entry of this host for one of `internalPorts`). False: no
   * protocol answered.
   */
  discover(internalPorts: number[]): Promise<boolean> {
    return this.serial(async () => {
      if (this.closed) return false;
      const clients = this.opts.discover ? await this.opts.discover(this.nonce, this.timeoutMs) : (await discoverRouter({ pcpNonce: this.nonce, timeoutMs: this.timeoutMs })).clients;
      [this.client = null, ...this.fallbacks] = clients;
      if (this.client) await this.removeStale(internalPorts);
      return this.client !== null;
    });
  }

  /** Maps each port in turn (HTTPS first); never throws for a router's refusal. */
  async mapAll(wanted: WantedPort[]): Promise<PortResult[]> {
    const results: PortResult[] = [];
    for (const w of wanted) results.push(await this.serial(() => this.mapOne(w)));
    return results;
  }

  /** The router's external address and its class; `none` when unknown. */
  async externalAddress(): Promise<{ address: string | null; class: ExternalClass }> {
    const client = this.client;
    if (!client || this.closed) return { address: null, class: 'none' };
    let address: string | null = null;
    try {
      address = await client.externalAddress();
    } catch {
      address = null;
    }
    return { address, class: classifyExternalAddress(address) };
  }

  /** Stops renewals and removes every mapping (also one whose request is still in flight). Idempotent. */
  close(): Promise<void> {
    this.closed = true;
    for (const a of this.active.values()) clearTimeout(a.timer);
    return this.serial(async () => {
      await Promise.all([...this.active.values()].map((a) => this.removeActive(a)));
    });
  }

  private async mapOne(want: WantedPort): Promise<PortResult> {
    if (this.closed || !this.client) return { label: want.label, ok: false, internalPort: want.internalPort, error: new MappingError(this.client?.protocol ?? 'pcp', 'other', 'stopping') };
    let lastError: MappingError | null = null;
    for (const client of [this.client, ...this.fallbacks]) {
      const result = await this.mapWith(client, want);
      if (result.ok) {
        if (client !== this.client) {
          this.fallbacks = this.fallbacks.filter((c) => c !== client);
          this.client = client;
        }
        return result;
      }
      lastError = result.error;
      // Only a silent or unsupporting router is worth asking in another protocol.
      if (result.error.reason !== 'timeout' && result.error.reason !== 'unsupported') return result;
    }
    return { label: want.label, ok: false, internalPort: want.internalPort, error: lastError! };
  }

  private async mapWith(client: MappingClient, want: WantedPort): Promise<PortResult> {
    const skipLow = this.lowPortsRefused && want.preferredExternalPort < 1024 && want.internalPort >= 1024;
    const candidates = skipLow ? [want.internalPort] : [...new Set([want.preferredExternalPort, want.internalPort])];
    let lowPortRefused = skipLow;
    let preferredTaken = false;
    let lastError: MappingError | null = null;
    for (const externalPort of candidates) {
      try {
        const result = await this.request(client, want, externalPort, lowPortRefused, preferredTaken);
        // NAT-PMP/PCP routers do not refuse a low port, they hand out another (miniupnpd: the
        // lowest its ACL allows). Prefer external = internal then, like after a UPnP 606: the
        // same port number inside and outside.
        const moved = result.ok && result.externalPort !== externalPort && externalPort < 1024 && want.internalPort >= 1024;
        if (!moved || externalPort === want.internalPort) return result;
        lowPortRefused = true;
        this.lowPortsRefused = true;
        await this.removeActive(this.active.get(want.label)!);
        continue;
      } catch (err) {
        if (!(err instanceof MappingError)) throw err;
        lastError = err;
        if (err.reason === 'refused' && externalPort < 1024) lowPortRefused = this.lowPortsRefused = true;
        if (err.reason === 'conflict' && externalPort === want.preferredExternalPort) preferredTaken = true;
        if (err.reason !== 'refused' && err.reason !== 'conflict') break;
      }
    }
    if (client instanceof UpnpClient && client.service.version === 2 && lastError && (lastError.reason === 'refused' || lastError.reason === 'conflict')) {
      try {
        return await this.request(client, want, want.internalPort, lowPortRefused, preferredTaken, true);
      } catch (err) {
        if (err instanceof MappingError) lastError = err;
        else throw err;
      }
    }
    return { label: want.label, ok: false, internalPort: want.internalPort, error: lastError! };
  }

  private async request(client: MappingClient, want: WantedPort, externalPort: number, lowPortRefused: boolean, preferredTaken: boolean, any = false): Promise<PortResult> {
    if (this.closed) throw new MappingError(client.protocol, 'other', 'stopping: no new mappings');
    const req: MapRequest = { internalPort: want.internalPort, externalPort, leaseSeconds: this.leaseSeconds, description: MAPPING_DESCRIPTION };
    // Recorded before asking: if we are killed right after the router says yes, the next start still knows.
    this.record(client.protocol, { label: want.label, internalPort: want.internalPort, externalPort });
    let granted;
    let requestedSeconds = req.leaseSeconds;
    try {
      granted = any && client instanceof UpnpClient ? await client.addAny(req) : await client.add(req);
    } catch (err) {
      if (err instanceof MappingError && err.reason === 'permanent-only') {
        requestedSeconds = 0;
        granted = any && client instanceof UpnpClient ? await client.addAny({ ...req, leaseSeconds: 0 }) : await client.add({ ...req, leaseSeconds: 0 });
      } else {
        this.unrecord(want.label);
        throw err;
      }
    }
    const a: Active = { client, want, externalPort: granted.externalPort, lifetimeSeconds: granted.lifetimeSeconds, requestedSeconds, failing: false };
    this.active.set(want.label, a);
    this.record(client.protocol, { label: want.label, internalPort: want.internalPort, externalPort: granted.externalPort }, lowPortRefused);
    this.scheduleRenewal(a);
    return { label: want.label, ok: true, internalPort: granted.internalPort, externalPort: granted.externalPort, lifetimeSeconds: granted.lifetimeSeconds, lowPortRefused, preferredTaken };
  }

  /** `delaySeconds` defaults to renewalDelaySeconds(); a retry passes its own (5–60 s). */
  private scheduleRenewal(a: Active, delaySeconds = renewalDelaySeconds(a.lifetimeSeconds, a.requestedSeconds)): void {
    clearTimeout(a.timer);
    if (this.closed || a.requestedSeconds === 0) return;
    a.timer = setTimeout(() => void this.serial(() => this.renew(a)), Math.max(1, delaySeconds) * 1000);
    a.timer.unref();
  }

  private async renew(a: Active): Promise<void> {
    const client = a.client;
    if (this.closed || this.active.get(a.want.label) !== a) return;
    try {
      const g = await client.add({ internalPort: a.want.internalPort, externalPort: a.externalPort, leaseSeconds: this.leaseSeconds, description: MAPPING_DESCRIPTION });
      const moved = g.externalPort !== a.externalPort;
      const recovered = a.failing;
      a.failing = false;
      a.externalPort = g.externalPort;
      a.lifetimeSeconds = g.lifetimeSeconds;
      if (moved) this.record(client.protocol, { label: a.want.label, internalPort: a.want.internalPort, externalPort: g.externalPort });
      if (moved || recovered) this.opts.events?.renewed?.(a.want.label, g.externalPort, g.lifetimeSeconds);
      this.scheduleRenewal(a);
    } catch (err) {
      const e = err instanceof MappingError ? err : new MappingError(client.protocol, 'other', (err as Error).message);
      if (!a.failing) this.opts.events?.renewFailed?.(a.want.label, e);
      a.failing = true;
      // Retry well before the old lease runs out: a quarter of it, at least 5 s, at most 60 s.
      this.scheduleRenewal(a, Math.min(60, Math.max(5, (Number.isFinite(a.lifetimeSeconds) ? a.lifetimeSeconds : 0) / 4)));
    }
  }

  private async removeActive(a: Active): Promise<void> {
    clearTimeout(a.timer);
    this.active.delete(a.want.label);
    try {
      await a.client.remove({ internalPort: a.want.internalPort, externalPort: a.externalPort });
    } catch {
      // Router gone or silent: the short lease removes it; the record lets the next start try again.
      return;
    }
    this.unrecord(a.want.label);
  }

  private async removeStale(internalPorts: number[]): Promise<void> {
    const client = this.client!;
    const state = readNetworkState(this.opts.dataPath);
    const sameFamily = !state.protocol || state.protocol === client.protocol || (state.protocol.startsWith('upnp') && client.protocol.startsWith('upnp'));
    // A NAT-PMP/PCP mapping from a run that used another protocol lapses with its short lease.
    const stale: Array<{ internalPort: number; externalPort: number }> = sameFamily ? [...state.mappings] : [];
    if (client instanceof UpnpClient) {
      try {
        for (const e of await client.listEntries()) {
          const ours = e.description === MAPPING_DESCRIPTION && e.internalClient === client.internalAddress && internalPorts.includes(e.internalPort);
          if (ours && !stale.some((m) => m.externalPort === e.externalPort)) stale.push(e);
        }
      } catch {
        // a router without GetGenericPortMappingEntry: the state file is all we know
      }
    }
    for (const m of stale) {
      try {
        if (client instanceof UpnpClient) {
          const entry = await client.getEntry(m.externalPort);
          if (!entry || entry.internalClient !== client.internalAddress || entry.description !== MAPPING_DESCRIPTION) continue;
        }
        await client.remove(m);
      } catch {
        // already gone (NAT-PMP/PCP deletes of nothing may error): fine
      }
    }
    updateNetworkState(this.opts.dataPath, (s) => {
      s.mappings = [];
      delete s.protocol;
      s.lowPortsRefused = false;
    });
  }

  private record(protocol: MappingProtocol, m: RecordedMapping, lowPortRefused?: boolean): void {
    updateNetworkState(this.opts.dataPath, (s) => {
      s.protocol = protocol;
      s.mappings = [...s.mappings.filter((x) => x.label !== m.label), m];
      s.lastExternalPorts = { ...s.lastExternalPorts, [m.label]: m.externalPort };
      if (lowPortRefused) s.lowPortsRefused = true;
    });
  }

  private unrecord(label: 'https' | 'http'): void {
    updateNetworkState(this.opts.dataPath, (s) => {
      s.mappings = s.mappings.filter((x) => x.label !== label);
    });
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
