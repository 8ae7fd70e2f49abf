/**
 * UPnP IGD client (WANIPConnection:2, :1 or WANPPPConnection:1): AddPortMapping with an empty
 * remote host (a literal "undefined" there makes a mapping no packet ever matches), renewal by
 * adding again, DeletePortMapping by external port, and the table queries `doctor` uses.
 */
import { MappingError, timeoutText, upnpErrorText } from './errors.ts';
import { localAddressTowards } from './gateway.ts';
import { isIP } from 'node:net';
import { LanAnswerTooLarge, lanHttp } from './http-lan.ts';
import { parseIgdDescription, type IgdService } from './igd-description.ts';
import { isPrivateLanIPv4, trustedRouterUrl } from './lan-trust.ts';
import { parseSoapFault, parseSoapValues, soapActionHeader, soapEnvelope, type SoapArgs } from './soap.ts';
import { discoverIgd, type SsdpResponse } from './ssdp.ts';
import type { GrantedMapping, MapRequest, MappingClient, RouterTableEntry } from './types.ts';

/** Cap on a device description, bytes: miniupnpd's is ~4 KB, big vendor ones ~20 KB. */
export const MAX_DESCRIPTION_BYTES = 64 * 1024;
/** Cap on a SOAP answer, bytes: the largest (GetGenericPortMappingEntry) is under 1 KB. */
export const MAX_SOAP_BYTES = 16 * 1024;

export class UpnpClient implements MappingClient {
  readonly protocol: 'upnp-igd2' | 'upnp-igd1';
  readonly gateway: string;
  constructor(
    readonly service: IgdService,
    readonly internalAddress: string,
    private readonly timeoutMs: number,
  ) {
    this.protocol = service.version === 2 ? 'upnp-igd2' : 'upnp-igd1';
    this.gateway = new URL(service.controlUrl).hostname;
  }

  /**
   * SSDP discovery + description: the first IGD at the default gateway with a usable connection
   * service, or null. No gateway (or one that is not a private LAN address): UPnP is not asked.
   */
  static async discover(opts: { localAddress: string | null; gateway: string | null; timeoutMs: number }): Promise<UpnpClient | null> {
    if (!opts.gateway || !isPrivateLanIPv4(opts.gateway)) return null;
    const answers = await discoverIgd({ localAddress: opts.localAddress, gateway: opts.gateway, timeoutMs: opts.timeoutMs });
    return UpnpClient.fromAnswers(answers, opts);
  }

  /**
   * The first SSDP answer whose LOCATION is http:// at `gateway` and whose description has a
   * connection service on that same origin; the others are never contacted.
   */
  static async fromAnswers(answers: SsdpResponse[], opts: { localAddress: string | null; gateway: string | null; timeoutMs: number }): Promise<UpnpClient | null> {
    for (const a of answers) {
      if (!trustedRouterUrl(a.location, opts.gateway)) continue;
      try {
        const res = await lanHttp(a.location, { timeoutMs: opts.timeoutMs, maxBytes: MAX_DESCRIPTION_BYTES });
        if (res.status !== 200) continue;
        const service = parseIgdDescription(res.body, a.location);
        if (!service) continue;
        const internal = opts.localAddress ?? (await localAddressTowards(opts.gateway!, 80));
        if (!internal) continue;
        return new UpnpClient(service, internal, opts.timeoutMs);
      } catch {
        // this device's description is unreachable, too large or broken: try the next answer
      }
    }
    return null;
  }

  async externalAddress(): Promise<string | null> {
    const v = await this.call('GetExternalIPAddress', [], ['NewExternalIPAddress']);
    const a = v.NewExternalIPAddress.trim();
    // Anything but an IP address is no address (and never text for the terminal).
    return isIP(a) && a !== '0.0.0.0' ? a : null;
  }

  async add(request: MapRequest): Promise<GrantedMapping> {
    await this.call('AddPortMapping', this.addArgs(request, request.externalPort), [], request.externalPort);
    return { internalPort: request.internalPort, externalPort: request.externalPort, lifetimeSeconds: request.leaseSeconds };
  }

  /** IGD:2 only: the router picks a free external port near the one asked for. */
  async addAny(request: MapRequest): Promise<GrantedMapping> {
    const v = await this.call('AddAnyPortMapping', this.addArgs(request, request.externalPort), ['NewReservedPort'], request.externalPort);
    const port = Number(v.NewReservedPort) || request.externalPort;
    return { internalPort: request.internalPort, externalPort: port, lifetimeSeconds: request.leaseSeconds };
  }

  async remove(mapping: { externalPort: number }): Promise<void> {
    await this.call('DeletePortMapping', [['NewRemoteHost', ''], ['NewExternalPort', mapping.externalPort], ['NewProtocol', 'TCP']], [], mapping.externalPort);
  }

  /** The router's entry for external TCP `externalPort`, or null when there is none (714). */
  async getEntry(externalPort: number): Promise<RouterTableEntry | null> {
    try {
      const v = await this.call(
        'GetSpecificPortMappingEntry',
        [['NewRemoteHost', ''], ['NewExternalPort', externalPort], ['NewProtocol', 'TCP']],
        ['NewInternalPort', 'NewInternalClient', 'NewEnabled', 'NewPortMappingDescription', 'NewLeaseDuration'],
        externalPort,
      );
      return {
        externalPort,
        internalPort: Number(v.NewInternalPort),
        internalClient: v.NewInternalClient,
        description: v.NewPortMappingDescription,
        leaseSeconds: Number(v.NewLeaseDuration) || 0,
        enabled: v.NewEnabled !== '0',
      };
    } catch (err) {
      if (err instanceof MappingError && (err.routerCode === 714 || err.routerCode === 402)) return null;
      throw err;
    }
  }

  /** Every TCP entry in the router's table (GetGenericPortMappingEntry until 713), at most `limit`. */
  async listEntries(limit = 128): Promise<RouterTableEntry[]> {
    const out: RouterTableEntry[] = [];
    for (let i = 0; i < limit; i++) {
      let v;
      try {
        v = await this.call(
          'GetGenericPortMappingEntry',
          [['NewPortMappingIndex', i]],
          ['NewExternalPort', 'NewProtocol', 'NewInternalPort', 'NewInternalClient', 'NewEnabled', 'NewPortMappingDescription', 'NewLeaseDuration'],
        );
      } catch (err) {
        if (err instanceof MappingError && err.reason !== 'timeout') break; // 713: past the end
        throw err;
      }
      if (v.NewProtocol.toUpperCase() !== 'TCP') continue;
      out.push({
        externalPort: Number(v.NewExternalPort),
        internalPort: Number(v.NewInternalPort),
        internalClient: v.NewInternalClient,
        description: v.NewPortMappingDescription,
        leaseSeconds: Number(v.NewLeaseDuration) || 0,
        enabled: v.NewEnabled !== '0',
      });
    }
    return out;
  }

  private addArgs(r: MapRequest, externalPort: number): SoapArgs {
    return [
      ['NewRemoteHost', ''],
      ['NewExternalPort', externalPort],
      ['NewProtocol', 'TCP'],
      ['NewInternalPort', r.internalPort],
      ['NewInternalClient', this.internalAddress],
      ['NewEnabled', 1],
      ['NewPortMappingDescription', r.description],
      ['NewLeaseDuration', r.leaseSeconds],
    ];
  }

  private async call<K extends string>(action: string, args: SoapArgs, outputs: readonly K[], externalPort?: number): Promise<Record<K, string>> {
    let res;
    try {
      res = await lanHttp(this.service.controlUrl, {
        method: 'POST',
        timeoutMs: this.timeoutMs,
        maxBytes: MAX_SOAP_BYTES,
        headers: { 'Content-Type': 'text/xml; charset="utf-8"', SOAPAction: soapActionHeader(this.service.serviceType, action) },
        body: soapEnvelope(this.service.serviceType, action, args),
      });
    } catch (err) {
      if (err instanceof LanAnswerTooLarge) throw new MappingError(this.protocol, 'other', `UPnP ${action}: ${err.message}`);
      const why = (err as Error).message === 'timeout' ? timeoutText(`UPnP ${action}`, this.timeoutMs) : `UPnP ${action}: cannot reach the router (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
      throw new MappingError(this.protocol, 'timeout', why);
    }
    if (res.status !== 200) {
      const fault = parseSoapFault(res.body);
      if (fault) {
        const { reason, text } = upnpErrorText(fault.code, externalPort);
        throw new MappingError(this.protocol, reason, text, fault.code);
      }
      throw new MappingError(this.protocol, 'other', `UPnP ${action}: the router answered HTTP ${res.status}`);
    }
    return parseSoapValues(res.body, outputs);
  }
}
