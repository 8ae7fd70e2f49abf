/**
 * A structural check of a posted commit's MLSMessage framing (RFC 9420 §6): only the cleartext
 * header is read, with a bounds-checked reader, and nothing is ever decrypted or verified. It
 * keeps arbitrary bytes out of the handshake log: what is stored claims to be a commit of this
 * group at this epoch. Whether it really is one (signature, membership tag, contents) only the
 * members can tell.
 *
 *   MLSMessage    = version uint16 (mls10 = 1) | wire_format uint16 | body
 *   PublicMessage = group_id<V> | epoch uint64 | sender | authenticated_data<V> | content_type uint8 | …
 *   PrivateMessage= group_id<V> | epoch uint64 | content_type uint8 | authenticated_data<V> | …
 *   sender        = sender_type uint8 (member 1, external 2: + uint32 index; new_member_* 3, 4)
 *   <V>           = a variable-length vector: RFC 9000 §16 varint length (1, 2 or 4 bytes, minimal)
 */

const MLS10 = 1;
const WIRE_PUBLIC = 1;
const WIRE_PRIVATE = 2;
const CONTENT_COMMIT = 3;

/** Why a commit's framing was refused (the `reason` of MLS_BAD_COMMIT). */
export type FramingProblem = 'truncated' | 'version' | 'wire_format' | 'group_id' | 'epoch' | 'sender' | 'content_type';

class FramingError extends Error {
  constructor(readonly problem: FramingProblem) {
    super(problem);
  }
}

/** Reads big-endian integers and vectors, refusing to read past the end. */
class HeaderReader {
  private at = 0;
  constructor(private readonly bytes: Uint8Array) {}

  private need(n: number): void {
    if (this.at + n > this.bytes.length) throw new FramingError('truncated');
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.at++];
  }

  u16(): number {
    return (this.u8() << 8) | this.u8();
  }

  u32(): number {
    return this.u16() * 0x10000 + this.u16();
  }

  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }

  /** RFC 9420 §2.1.2: 2-bit prefix gives 1, 2 or 4 bytes; 8 is invalid; the shortest form is required. */
  private varint(): number {
    const first = this.u8();
    const prefix = first >> 6;
    if (prefix === 0) return first & 0x3f;
    if (prefix === 1) {
      const v = ((first & 0x3f) << 8) | this.u8();
      if (v < 0x40) throw new FramingError('truncated');
      return v;
    }
    if (prefix === 2) {
      const v = (first & 0x3f) * 0x1000000 + this.u8() * 0x10000 + this.u16();
      if (v < 0x4000) throw new FramingError('truncated');
      return v;
    }
    throw new FramingError('truncated');
  }

  vector(): Uint8Array {
    const n = this.varint();
    this.need(n);
    const v = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return v;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Null when `bytes` frame an MLS commit for `groupId` at `epoch`; otherwise what is wrong.
 * Reads a few dozen bytes at most (plus the group id), whatever the input's size.
 */
export function commitFramingProblem(bytes: Uint8Array, groupId: Uint8Array, epoch: number): FramingProblem | null {
  const r = new HeaderReader(bytes);
  try {
    if (r.u16() !== MLS10) return 'version';
    const wire = r.u16();
    if (wire !== WIRE_PUBLIC && wire !== WIRE_PRIVATE) return 'wire_format';
    if (!sameBytes(r.vector(), groupId)) return 'group_id';
    if (r.u64() !== BigInt(epoch)) return 'epoch';
    let contentType: number;
    if (wire === WIRE_PUBLIC) {
      const senderType = r.u8();
      if (senderType === 1 || senderType === 2) r.u32();
      else if (senderType !== 3 && senderType !== 4) return 'sender';
      r.vector(); // authenticated_data
      contentType = r.u8();
    } else {
      contentType = r.u8();
    }
    return contentType === CONTENT_COMMIT ? null : 'content_type';
  } catch (err) {
    if (err instanceof FramingError) return err.problem;
    throw err;
  }
}
