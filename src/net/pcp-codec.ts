/**
 * PCP packets (RFC 6887): the 24-byte common header and the MAP opcode (36 bytes), plus ANNOUNCE
 * (header only) to learn whether a PCP server is there without creating anything. Addresses are
 * 16 bytes; IPv4 travels as IPv4-mapped IPv6 (::ffff:a.b.c.d).
 */
import { randomBytes } from 'node:crypto';
import { isIPv4 } from 'node:net';

export const PCP_PORT = 5351;
export const PCP_VERSION = 2;
export const OP_ANNOUNCE = 0;
export const OP_MAP = 1;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
export const NONCE_BYTES = 12;

/** A fresh mapping nonce; deleting or renewing a mapping needs the same one (persist it). */
export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

/** IPv4 dotted quad (or an IPv6 string) → 16 bytes. */
export function encodeAddress(address: string): Buffer {
  const b = Buffer.alloc(16);
  if (isIPv4(address)) {
    b.writeUInt16BE(0xffff, 10);
    address.split('.').forEach((part, i) => b.writeUInt8(Number(part), 12 + i));
    return b;
  }
  const [head = '', tail = ''] = address.split('::');
  const h = head ? head.split(':') : [];
  const t = address.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16) || 0, i * 2));
  return b;
}

/** 16 bytes → dotted quad when IPv4-mapped, else a (non-compressed) IPv6 string. */
export function decodeAddress(b: Buffer): string {
  const mapped = b.subarray(0, 10).every((x) => x === 0) && b.readUInt16BE(10) === 0xffff;
  if (mapped) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return groups.join(':');
}

function header(opcode: number, lifetimeSeconds: number, clientAddress: string): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt8(PCP_VERSION, 0);
  b.writeUInt8(opcode & 0x7f, 1); // R bit 0 = request
  b.writeUInt16BE(0, 2);
  b.writeUInt32BE(lifetimeSeconds, 4);
  encodeAddress(clientAddress).copy(b, 8);
  return b;
}

/** ANNOUNCE request (lifetime 0): a PCP server answers SUCCESS and nothing changes. */
export function encodeAnnounceRequest(clientAddress: string): Buffer {
  return header(OP_ANNOUNCE, 0, clientAddress);
}

export interface PcpMapRequest {
  nonce: Buffer;
  protocol: 'tcp' | 'udp';
  internalPort: number;
  /** 0 = no preference. */
  suggestedExternalPort: number;
  /** '' = no preference (sent as ::ffff:0.0.0.0). */
  suggestedExternalAddress: string;
  /** 0 deletes the mapping with this nonce and internal port. */
  lifetimeSeconds: number;
  clientAddress: string;
}

/** The 60-byte MAP request. */
export function encodeMapRequest(r: PcpMapRequest): Buffer {
  if (r.nonce.length !== NONCE_BYTES) throw new Error(`PCP nonce must be ${NONCE_BYTES} bytes`);
  const body = Buffer.alloc(36);
  r.nonce.copy(body, 0);
  body.writeUInt8(r.protocol === 'tcp' ? PROTO_TCP : PROTO_UDP, 12);
  body.writeUInt16BE(r.internalPort, 16);
  body.writeUInt16BE(r.suggestedExternalPort, 18);
  encodeAddress(r.suggestedExternalAddress || '0.0.0.0').copy(body, 20);
  return Buffer.concat([header(OP_MAP, r.lifetimeSeconds, r.clientAddress), body]);
}

export interface PcpResponse {
  opcode: number;
  resultCode: number;
  lifetimeSeconds: number;
  epochSeconds: number;
  /** MAP only. */
  map?: { nonce: Buffer; protocol: number; internalPort: number; externalPort: number; externalAddress: string };
}

/** Decodes a PCP response, or null when the packet is not one (e.g. a NAT-PMP answer). */
export function decodeResponse(b: Buffer): PcpResponse | null {
  if (b.length < 24 || b[0] !== PCP_VERSION || (b[1]! & 0x80) === 0) return null;
  const res: PcpResponse = {
    opcode: b[1]! & 0x7f,
    resultCode: b[3]!,
    lifetimeSeconds: b.readUInt32BE(4),
    epochSeconds: b.readUInt32BE(8),
  };
  if (res.opcode === OP_MAP && b.length >= 60) {
    res.map = {
      nonce: Buffer.from(b.subarray(24, 36)),
      protocol: b[36]!,
      internalPort: b.readUInt16BE(40),
      externalPort: b.readUInt16BE(42),
      externalAddress: decodeAddress(b.subarray(44, 60)),
    };
  }
  return res;
}

/**
 * A NAT-PMP-only router answers a version-2 packet with a version-0 "unsupported version" reply
 * (RFC 6887 §9): true for such a packet.
 */
export function isNatpmpVersionReply(b: Buffer): boolean {
  return b.length >= 4 && b[0] === 0 && b.readUInt16BE(2) === 1;
}
