/** NAT-PMP (RFC 6886) client: external address, map, renew (= map again), delete (lifetime 0). */
import { MappingError, natpmpResultText, timeoutText } from './errors.ts';
import {
  NATPMP_PORT,
  decodeExternalAddressResponse,
  decodeMapResponse,
  encodeExternalAddressRequest,
  encodeMapRequest,
  type NatpmpExternalAddressResponse,
} from './natpmp-codec.ts';
import type { GrantedMapping, MapRequest, MappingClient } from './types.ts';
import { udpExchange } from './udp.ts';

export class NatpmpClient implements MappingClient {
  readonly protocol = 'natpmp' as const;
  constructor(
    readonly gateway: string,
    readonly internalAddress: string,
    /** Budget for the probe and the external address, ms. */
    private readonly timeoutMs: number,
    /** Budget for a mapping request, ms: a router walking its ACL for a free port takes seconds. */
    private readonly requestTimeoutMs = Math.max(timeoutMs, 6000),
    private readonly port = NATPMP_PORT,
  ) {}

  /**
   * Asks for the external address. Resolves with the router's answer (even an error result),
   * null when nothing answered: the probe that tells whether NAT-PMP is there.
   */
  async probe(): Promise<NatpmpExternalAddressResponse | null> {
    const outcome = await udpExchange(this.gateway, this.port, encodeExternalAddressRequest(), this.timeoutMs, decodeExternalAddressResponse);
    return outcome.kind === 'answer' ? outcome.value : null;
  }

  async externalAddress(): Promise<string | null> {
    const res = await this.probe();
    if (!res) throw new MappingError('natpmp', 'timeout', timeoutText('NAT-PMP external address', this.timeoutMs));
    if (res.resultCode !== 0) {
      const { reason, text } = natpmpResultText(res.resultCode);
      if (reason === 'no-wan') return null;
      throw new MappingError('natpmp', reason, text, res.resultCode);
    }
    return res.externalAddress === '0.0.0.0' ? null : res.externalAddress;
  }

  async add(request: MapRequest): Promise<GrantedMapping> {
    // First resend after 1 s rather than RFC 6886's 250 ms: a router answers requests one by one,
    // and duplicates of a slow request (miniupnpd walking its ACL takes ~2 s) delay the next ones.
    const res = await this.send(request.internalPort, request.externalPort, request.leaseSeconds, 'NAT-PMP mapping', this.requestTimeoutMs, 1000);
    return { internalPort: res.internalPort, externalPort: res.externalPort, lifetimeSeconds: res.lifetimeSeconds };
  }

  async remove(mapping: { internalPort: number }): Promise<void> {
    // RFC 6886 §3.4: delete = lifetime 0 and suggested external port 0.
    // A delete is quick for the router, and it runs while the user waits for chatroom to stop.
    await this.send(mapping.internalPort, 0, 0, 'NAT-PMP delete', this.timeoutMs, 250);
  }

  private async send(internalPort: number, externalPort: number, lifetimeSeconds: number, what: string, budgetMs: number, firstResendMs: number) {
    const message = encodeMapRequest({ protocol: 'tcp', internalPort, externalPort, lifetimeSeconds });
    const outcome = await udpExchange(
      this.gateway,
      this.port,
      message,
      budgetMs,
      (p) => {
        const r = decodeMapResponse(p);
        return r && (r.internalPort === internalPort || r.resultCode !== 0) ? r : null;
      },
      firstResendMs,
    );
    if (outcome.kind !== 'answer') throw new MappingError('natpmp', 'timeout', timeoutText(what, budgetMs));
    const res = outcome.value;
    if (res.resultCode !== 0) {
      const { reason, text } = natpmpResultText(res.resultCode);
      throw new MappingError('natpmp', reason, text, res.resultCode);
    }
    return res;
  }
}
