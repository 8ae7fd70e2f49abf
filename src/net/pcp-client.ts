/**
 * PCP (RFC 6887) client: MAP with a nonce kept for the life of the data directory, so a renewal,
 * a delete, or the cleanup after a killed run all address the same mapping (§11.1).
 */
import { MappingError, pcpResultText, timeoutText } from './errors.ts';
import { OP_ANNOUNCE, OP_MAP, PCP_PORT, decodeResponse, encodeAnnounceRequest, encodeMapRequest, isNatpmpVersionReply, type PcpResponse } from './pcp-codec.ts';
import type { GrantedMapping, MapRequest, MappingClient } from './types.ts';
import { udpExchange } from './udp.ts';

/** What a PCP probe found: a PCP server, a NAT-PMP-only server (it answered version 0), or nothing. */
export type PcpProbe = { kind: 'pcp'; response: PcpResponse } | { kind: 'natpmp-only' } | { kind: 'none' };

export class PcpClient implements MappingClient {
  readonly protocol = 'pcp' as const;
  private lastExternalAddress: string | null = null;
  constructor(
    readonly gateway: string,
    readonly internalAddress: string,
    private readonly nonce: Buffer,
    /** Budget for the probe, ms. */
    private readonly timeoutMs: number,
    /** Budget for a MAP request, ms (a router walking its ACL for a free port takes seconds). */
    private readonly requestTimeoutMs = Math.max(timeoutMs, 6000),
    private readonly port = PCP_PORT,
  ) {}

  /** Sends ANNOUNCE (creates nothing) and reports who answered. */
  async probe(): Promise<PcpProbe> {
    const outcome = await udpExchange(this.gateway, this.port, encodeAnnounceRequest(this.internalAddress), this.timeoutMs, (p): PcpProbe | null => {
      if (isNatpmpVersionReply(p)) return { kind: 'natpmp-only' };
      const r = decodeResponse(p);
      return r && r.opcode === OP_ANNOUNCE ? { kind: 'pcp', response: r } : null;
    });
    return outcome.kind === 'answer' ? outcome.value : { kind: 'none' };
  }

  /**
   * PCP has no "external address" opcode: the address comes with each MAP answer. Before any
   * mapping exists this asks for a zero-lifetime MAP of port 9 with a throwaway nonce, which the
   * server answers with the address it would use and which creates nothing.
   */
  async externalAddress(): Promise<string | null> {
    if (this.lastExternalAddress) return this.lastExternalAddress;
    const res = await this.map(9, 0, 0, Buffer.alloc(12, 0xa5), 'PCP external address', true, this.timeoutMs, 250);
    const address = res.map?.externalAddress ?? null;
    return address && address !== '0.0.0.0' ? address : null;
  }

  async add(request: MapRequest): Promise<GrantedMapping> {
    // RFC 6887 §8.1.1: first retransmission after 3 s.
    const res = await this.map(request.internalPort, request.externalPort, request.leaseSeconds, this.nonce, 'PCP mapping', false, this.requestTimeoutMs, 3000);
    const m = res.map!;
    this.lastExternalAddress = m.externalAddress === '0.0.0.0' ? null : m.externalAddress;
    return { internalPort: m.internalPort, externalPort: m.externalPort, lifetimeSeconds: res.lifetimeSeconds };
  }

  async remove(mapping: { internalPort: number }): Promise<void> {
    // RFC 6887 §15: lifetime 0 with the same nonce, protocol and internal port deletes.
    // Quick for the router, and the user is waiting for chatroom to stop: resend sooner than RFC 6887's 3 s.
    await this.map(mapping.internalPort, 0, 0, this.nonce, 'PCP delete', false, this.timeoutMs, 500);
  }

  private async map(
    internalPort: number,
    externalPort: number,
    lifetimeSeconds: number,
    nonce: Buffer,
    what: string,
    acceptErrors: boolean,
    budgetMs: number,
    firstResendMs: number,
  ): Promise<PcpResponse> {
    const message = encodeMapRequest({
      nonce,
      protocol: 'tcp',
      internalPort,
      suggestedExternalPort: externalPort,
      suggestedExternalAddress: '',
      lifetimeSeconds,
      clientAddress: this.internalAddress,
    });
    const outcome = await udpExchange(
      this.gateway,
      this.port,
      message,
      budgetMs,
      (p) => {
        const r = decodeResponse(p);
        if (!r || r.opcode !== OP_MAP) return null;
        // A success must echo our nonce (§11.4); an error answer may not carry the payload.
        return r.resultCode !== 0 || (r.map && r.map.nonce.equals(nonce)) ? r : null;
      },
      firstResendMs,
    );
    if (outcome.kind !== 'answer') throw new MappingError('pcp', 'timeout', timeoutText(what, budgetMs));
    const res = outcome.value;
    if (res.resultCode !== 0 && !(acceptErrors && res.map)) {
      const { reason, text } = pcpResultText(res.resultCode);
      throw new MappingError('pcp', reason, text, res.resultCode);
    }
    return res;
  }
}
