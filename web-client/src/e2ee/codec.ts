/** Length-prefixed byte fields (u32 big-endian lengths) for the small formats in this folder. */

export function packFields(version: number, fields: Uint8Array[]): Uint8Array {
  const size = 1 + 4 + fields.reduce((n, f) => n + 4 + f.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = version;
  view.setUint32(1, fields.length);
  let at = 5;
  for (const f of fields) {
    view.setUint32(at, f.length);
    out.set(f, at + 4);
    at += 4 + f.length;
  }
  return out;
}

/** The fields of a `packFields` blob; throws on a wrong version or any bad length. */
export function unpackFields(bytes: Uint8Array, version: number, what: string): Uint8Array[] {
  const bad = (why: string) => new Error(`${what}: ${why}`);
  if (bytes.length < 5) throw bad('too short');
  if (bytes[0] !== version) throw bad(`unknown version ${bytes[0]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(1);
  const fields: Uint8Array[] = [];
  let at = 5;
  for (let i = 0; i < count; i++) {
    if (at + 4 > bytes.length) throw bad('truncated');
    const len = view.getUint32(at);
    if (at + 4 + len > bytes.length) throw bad('truncated');
    fields.push(bytes.slice(at + 4, at + 4 + len));
    at += 4 + len;
  }
  if (at !== bytes.length) throw bad('trailing bytes');
  return fields;
}

const text = new TextEncoder();
const untext = new TextDecoder('utf-8', { fatal: true });

export const utf8 = (s: string): Uint8Array => text.encode(s);
export const fromUtf8 = (b: Uint8Array): string => untext.decode(b);
