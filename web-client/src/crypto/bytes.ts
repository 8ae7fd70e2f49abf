/** Byte helpers for our own binary formats: big-endian integers, u8-length-prefixed fields. */
import { CryptoError } from './errors.ts';

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

export function utf8(s: string): Uint8Array {
  return utf8Encoder.encode(s);
}

export function fromUtf8(b: Uint8Array): string {
  try {
    return utf8Decoder.decode(b);
  } catch {
    throw new CryptoError('malformed', 'invalid UTF-8');
  }
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Constant-time-ish equality (no early exit on content). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

export function toHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

export function fromHex(h: string): Uint8Array {
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) throw new CryptoError('malformed', 'invalid hex');
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toBase64(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}

export function fromBase64(s: string): Uint8Array {
  let bin: string;
  try {
    bin = atob(s);
  } catch {
    throw new CryptoError('malformed', 'invalid base64');
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** A fresh copy whose buffer is a plain ArrayBuffer (what Web Crypto's BufferSource wants). */
export function buf(b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(b.length);
  out.set(b);
  return out;
}

/** Appends big-endian integers and length-prefixed fields. */
export class ByteWriter {
  private parts: Uint8Array[] = [];
  u8(n: number): this {
    this.parts.push(Uint8Array.of(n & 0xff));
    return this;
  }
  u16(n: number): this {
    this.parts.push(Uint8Array.of((n >>> 8) & 0xff, n & 0xff));
    return this;
  }
  u32(n: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n);
    this.parts.push(b);
    return this;
  }
  /** Unsigned 64-bit; `n` is a safe integer or bigint. */
  u64(n: number | bigint): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(n));
    this.parts.push(b);
    return this;
  }
  raw(b: Uint8Array): this {
    this.parts.push(b);
    return this;
  }
  /** A field of at most 255 bytes behind a one-byte length. */
  short(b: Uint8Array, what: string): this {
    if (b.length > 255) throw new CryptoError('malformed', `${what} is longer than 255 bytes`);
    return this.u8(b.length).raw(b);
  }
  /** A field behind a four-byte length. */
  long(b: Uint8Array): this {
    return this.u32(b.length).raw(b);
  }
  bytes(): Uint8Array {
    return concat(...this.parts);
  }
}

/** Reads what ByteWriter wrote; every overrun is a `malformed` CryptoError. */
export class ByteReader {
  private o = 0;
  constructor(private readonly b: Uint8Array) {}
  get offset(): number {
    return this.o;
  }
  get remaining(): number {
    return this.b.length - this.o;
  }
  private take(n: number): Uint8Array {
    if (n < 0 || this.o + n > this.b.length) throw new CryptoError('malformed', 'truncated input');
    const out = this.b.subarray(this.o, this.o + n);
    this.o += n;
    return out;
  }
  u8(): number {
    return this.take(1)[0];
  }
  u16(): number {
    const t = this.take(2);
    return (t[0] << 8) | t[1];
  }
  u32(): number {
    const t = this.take(4);
    return new DataView(t.buffer, t.byteOffset, 4).getUint32(0);
  }
  u64(): bigint {
    const t = this.take(8);
    return new DataView(t.buffer, t.byteOffset, 8).getBigUint64(0);
  }
  raw(n: number): Uint8Array {
    return this.take(n).slice();
  }
  short(): Uint8Array {
    return this.raw(this.u8());
  }
  long(): Uint8Array {
    return this.raw(this.u32());
  }
  rest(): Uint8Array {
    return this.raw(this.remaining);
  }
  /** Throws unless every byte was consumed (no trailing garbage accepted). */
  end(): void {
    if (this.remaining !== 0) throw new CryptoError('malformed', 'trailing bytes');
  }
}
