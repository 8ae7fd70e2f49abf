/**
 * `node --import tsx bench/attachments.ts [--chromium] [MiB]`: encrypt and decrypt throughput of
 * the attachment format (web-client/src/crypto/file-chunks.ts), including the streamed SHA-256 of
 * the ciphertext, for a 10 MB photo, a 1-minute voice note and a bulk size (default 64 MiB); best
 * of 3 runs. `--chromium` runs the same code in headless Chromium (/usr/bin/chromium) instead of
 * Node. Prints one line per size and a JSON summary.
 */
import { fileURLToPath } from 'node:url';
import { serveModulePage } from '../test/helpers/module-page.ts';
import { chromium } from 'playwright-core';
import * as fileChunks from '../web-client/src/crypto/file-chunks.ts';

const MIB = 1024 * 1024;
const RUNS = 3;

interface Figures {
  encMiBs: number;
  decMiBs: number;
}

/**
 * The measurement, as plain JavaScript source so that Chromium runs exactly what Node runs: feeds
 * `bytes` of random data in 1 MiB pieces (like a File stream), then decrypts the sealed chunks.
 */
const MEASURE_SOURCE = `async (fc, sizes, runs) => {
  const MIB = 1024 * 1024;
  const fill = new Uint8Array(MIB);
  for (let o = 0; o < MIB; o += 65536) crypto.getRandomValues(fill.subarray(o, o + 65536));
  async function* pieces(total) {
    for (let sent = 0; sent < total; sent += MIB) yield fill.subarray(0, Math.min(MIB, total - sent));
  }
  const out = {};
  for (const [name, bytes] of sizes) {
    let enc = 0, dec = 0;
    for (let r = 0; r < runs; r++) {
      const fk = fc.newFileKey();
      const sealed = [];
      let t = performance.now();
      const e = fc.encryptFile(pieces(bytes), fk);
      for await (const c of e.chunks) sealed.push(c);
      const summary = await e.summary;
      const encMs = performance.now() - t;
      t = performance.now();
      let plain = 0;
      for await (const p of fc.decryptFile(sealed, fk, { sha256: summary.sha256, ciphertextBytes: summary.ciphertextBytes })) plain += p.length;
      const decMs = performance.now() - t;
      if (plain !== bytes) throw new Error('decrypted ' + plain + ' bytes, expected ' + bytes);
      enc = Math.max(enc, bytes / MIB / (encMs / 1000));
      dec = Math.max(dec, bytes / MIB / (decMs / 1000));
    }
    out[name] = { encMiBs: Math.round(enc), decMiBs: Math.round(dec) };
  }
  return out;
}`;

type Measure = (fc: typeof fileChunks, sizes: Array<[string, number]>, runs: number) => Promise<Record<string, Figures>>;

async function inChromium(sizes: Array<[string, number]>): Promise<{ runtime: string; results: Record<string, Figures> }> {
  const modulePath = fileURLToPath(new URL('../web-client/src/crypto/file-chunks.ts', import.meta.url));
  const { url, server } = await serveModulePage(modulePath, 'fileChunks');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage();
    await page.goto(url);
    const runtime = await page.evaluate(() => navigator.userAgent.match(/Chrome\/[\d.]+/)?.[0] ?? 'Chromium');
    const results = (await page.evaluate(`(${MEASURE_SOURCE})(globalThis.fileChunks, ${JSON.stringify(sizes)}, ${RUNS})`)) as Record<string, Figures>;
    return { runtime, results };
  } finally {
    await browser.close();
    server.close();
  }
}

const args = process.argv.slice(2);
const browserMode = args.includes('--chromium');
const mib = Number(args.find((a) => !a.startsWith('--')) ?? 64);
if (!Number.isFinite(mib) || mib <= 0) throw new Error('usage: bench/attachments.ts [--chromium] [MiB > 0]');
// A 10 MB photo, a 1-minute Opus voice note (~32 kbit/s ≈ 240 KB) and the bulk figure.
const sizes: Array<[string, number]> = [['photo10MB', 10_000_000], ['voice1min', 240_000], [`bulk${mib}MiB`, mib * MIB]];
const { runtime, results } = browserMode
  ? await inChromium(sizes)
  : { runtime: `Node ${process.version}`, results: await ((0, eval)(MEASURE_SOURCE) as Measure)(fileChunks, sizes, RUNS) };
for (const [name] of sizes) {
  const r = results[name];
  console.log(`${name.padEnd(12)} encrypt ${String(r.encMiBs).padStart(4)} MiB/s   decrypt ${String(r.decMiBs).padStart(4)} MiB/s  (with SHA-256, ${runtime})`);
}
console.log(JSON.stringify({ runtime, results }));
