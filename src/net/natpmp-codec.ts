/**
 * NAT-PMP packets (RFC 6886 §3): the external-address request (opcode 0) and the TCP/UDP mapping
 * request (opcodes 1/2). All integers are big-endian; lifetimes are seconds.
 */
export const NATPMP_PORT = 5351;
const VERSION = 0;
export const OP_EXTERNAL_ADDRESS = 0;
export const OP_MAP_UDP = 1;
export const OP_MAP_TCP = 2;

/** The 2-byte external address request. */
export function encodeExternalAddressRequest(): Buffer {
  return Buffer.from([VERSION, OP_EXTERNAL_ADDRESS]);
}

/** The 12-byte mapping request; lifetime 0 (with external port 0) deletes. */
export function encodeMapRequest(opts: { protocol: 'tcp' | 'udp'; internalPort: number; externalPort: number; lifetimeSeconds: number }): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt8(VERSION, 0);
  b.writeUInt8(opts.protocol === 'tcp' ? OP_MAP_TCP : OP_MAP_UDP, 1);
  b.writeUInt16BE(0, 2);
  b.writeUInt16BE(opts.internalPort, 4);
  b.writeUInt16BE(opts.externalPort, 6);
  b.writeUInt32BE(opts.lifetimeSeconds, 8);
  return b;
}

export interface NatpmpExternalAddressResponse {
  resultCode: number;
  /** Seconds since the router's mapping table was (re)initialised. */
  epochSeconds: number;
  externalAddress: string;
}

export interface NatpmpMapResponse {
  opcode: number;
  resultCode: number;
  epochSeconds: number;
  internalPort: number;
  externalPort: number;
  lifetimeSeconds: number;
}

/** Decodes an answer to opcode 0, or null when the packet is not one. */
export function decodeExternalAddressResponse(b: Buffer): NatpmpExternalAddressResponse | null {
  if (b.length < 8 || b[0] !== VERSION || b[1] !== 128 + OP_EXTERNAL_ADDRESS) return null;
  const resultCode = b.readUInt16BE(2);
  const epochSeconds = b.readUInt32BE(4);
  // An error answer may be only 8 bytes long (RFC 6886 §3.5).
  const externalAddress = b.length >= 12 ? `${b[8]}.${b[9]}.${b[10]}.${b[11]}` : '';
  return { resultCode, epochSeconds, externalAddress };
}

/** Decodes an answer to opcode 1/2, or null when the packet is not one. */
export function decodeMapResponse(b: Buffer): NatpmpMapResponse | null {
  if (b.length < 8 || b[0] !== VERSION || (b[1] !== 128 + OP_MAP_UDP && b[1] !== 128 + OP_MAP_TCP)) return null;
  const resultCode = b.readUInt16BE(2);
  const epochSeconds = b.readUInt32BE(4);
  if (b.length < 16) return { opcode: b[1]! - 128, resultCode, epochSeconds, internalPort: 0, externalPort: 0, lifetimeSeconds: 0 };
  return {
    opcode: b[1]! - 128,
    resultCode,
    epochSeconds,
    internalPort: b.readUInt16BE(8),
    externalPort: b.readUInt16BE(10),
    lifetimeSeconds: b.readUInt32BE(12),
  };
}
