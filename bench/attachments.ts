/**
 * `node --import tsx bench/attachments.ts [MiB]`: encrypt and decrypt throughput of the attachment
 * format (web-client/src/crypto/file-chunks.ts) in Node, including the streamed SHA-256 of the
 * ciphertext. Prints one line per step and a JSON summary. Default 64 MiB; best of 3 runs.
 */
import { decryptFile, encryptFile, newFileKey } from '../web-client/src/crypto/file-chunks.ts';

const MIB = 1024 * 1024;
const RUNS = 3;
/** Input piece size, like a File stream's (bytes). */
const PIECE = MIB;

async function* pieces(total: number, fill: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let sent = 0; sent < total; sent += PIECE) yield fill.subarray(0, Math.min(PIECE, total - sent));
}

async function once(totalBytes: number): Promise<{ encMiBs: number; decMiBs: number }> {
  const fill = new Uint8Array(PIECE);
  // getRandomValues fills at most 64 KiB per call.
  for (let o = 0; o < PIECE; o += 65_536) crypto.getRandomValues(fill.subarray(o, o + 65_536));
  const fk = newFileKey();
  const sealed: Uint8Array[] = [];
  let t = performance.now();
  const enc = encryptFile(pieces(totalBytes, fill), fk);
  for await (const c of enc.chunks) sealed.push(c);
  const summary = await enc.summary;
  const encMs = performance.now() - t;
  t = performance.now();
  let plain = 0;
  for await (const p of decryptFile(sealed, fk, { sha256: summary.sha256, ciphertextBytes: summary.ciphertextBytes })) plain += p.length;
  const decMs = performance.now() - t;
  if (plain !== totalBytes) throw new Error(`decrypted ${plain} bytes, expected ${totalBytes}`);
  return { encMiBs: totalBytes / MIB / (encMs / 1000), decMiBs: totalBytes / MIB / (decMs / 1000) };
}

const mib = Number(process.argv[2] ?? 64);
if (!Number.isFinite(mib) || mib <= 0) throw new Error('usage: bench/attachments.ts [MiB > 0]');
const results: Record<string, { encMiBs: number; decMiBs: number }> = {};
// A 10 MB photo, a 1-minute Opus voice note (~32 kbit/s ≈ 240 KB) and the bulk figure.
for (const [name, bytes] of [['photo10MB', 10_000_000], ['voice1min', 240_000], [`bulk${mib}MiB`, mib * MIB]] as const) {
  let best = { encMiBs: 0, decMiBs: 0 };
  for (let r = 0; r < RUNS; r++) {
    const x = await once(bytes);
    best = { encMiBs: Math.max(best.encMiBs, x.encMiBs), decMiBs: Math.max(best.decMiBs, x.decMiBs) };
  }
  results[name] = { encMiBs: Math.round(best.encMiBs), decMiBs: Math.round(best.decMiBs) };
  console.log(`${name.padEnd(12)} encrypt ${String(results[name].encMiBs).padStart(4)} MiB/s   decrypt ${String(results[name].decMiBs).padStart(4)} MiB/s  (with SHA-256, Node ${process.version})`);
}
console.log(JSON.stringify({ node: process.version, results }));
