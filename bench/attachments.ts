/**
 * `node --import tsx bench/attachments.ts [--chromium] [MiB]`: encrypt and decrypt throughput of
 * the attachment format (web-client/src/crypto/file-chunks.ts), including the streamed SHA-256 of
 * the ciphertext, for a 10 MB photo, a 1-minute voice note and a bulk size (default 64 MiB); best
 * of 3 runs. `--chromium` runs the same code in headless Chromium (/usr/bin/chromium) instead of
 * Node. Prints one line per size and a JSON summary.
 *
 * `node --import tsx bench/attachments.ts --chat [runs]` (after `npm run build`: it serves
 * dist/web): two people signed up in the real web client on a loopback server; the time from
 * choosing a photo with Attach photo (the input's `change`: the composer sends at once) to the
 * receiver's page showing its decrypted thumbnail, median of `runs` (default 5), for a
 * 12-megapixel camera-sized JPEG and a 1-megapixel one. Covers re-encoding, thumbnail,
 * encryption, upload, the E2EE message, the thumbnail's download and its decryption.
 */
import { fileURLToPath } from 'node:url';
import { serveModulePage } from '../test/helpers/module-page.ts';
import { startTestServer } from '../test/helpers/server.ts';
import { launchMediaBrowser } from '../test/fixtures/media/harness.ts';
import { chatPair } from '../test/fixtures/media/chat-pair.ts';
import { makeJpeg } from '../test/fixtures/media/exif-jpeg.ts';
import { chromium, type Page } from 'playwright-core';
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

/**
 * In the receiver's page: resolves with the wall-clock time (ms since the epoch, like Date.now())
 * of the first frame in which more than `already` received thumbnails are decoded.
 */
function thumbnailSeenAt(page: Page, already: number): Promise<number> {
  return page.evaluate((already) => new Promise<number>((resolve) => {
    const images = (root: Document | ShadowRoot, out: HTMLImageElement[]) => {
      for (const img of root.querySelectorAll<HTMLImageElement>('img[alt="Photo from alice"]')) out.push(img);
      for (const el of root.querySelectorAll('*')) if (el.shadowRoot) images(el.shadowRoot, out);
      return out;
    };
    const check = () => {
      const shown = images(document, []).filter((i) => i.complete && i.naturalWidth > 0);
      if (shown.length > already) resolve(performance.timeOrigin + performance.now());
      else requestAnimationFrame(check);
    };
    check();
  }), already);
}

/**
 * In the sender's page: wall-clock times (ms since the epoch) of the photo input's `change` (the
 * file chosen: the start, after Playwright has handed the file to the page), of the first frame in
 * which the composer's upload chip shows progress (preparing and encrypting done) and of the
 * first frame in which it is gone (every blob uploaded, the message handed to the store).
 */
function senderPhases(page: Page): Promise<{ chosenAt: number; uploadingAt: number; sentAt: number }> {
  return page.evaluate(() => new Promise<{ chosenAt: number; uploadingAt: number; sentAt: number }>((resolve) => {
    const find = (root: Document | ShadowRoot, selector: string): Element | null => {
      const hit = root.querySelector(selector);
      if (hit) return hit;
      for (const el of root.querySelectorAll('*')) {
        const inner = el.shadowRoot && find(el.shadowRoot, selector);
        if (inner) return inner;
      }
      return null;
    };
    const composer = find(document, 'composer-box')!;
    let chosenAt = 0;
    composer.shadowRoot!.querySelector('#photo-input')!.addEventListener('change', () => (chosenAt = performance.timeOrigin + performance.now()), { once: true, capture: true });
    let seen = false;
    let uploadingAt = 0;
    const check = () => {
      const now = performance.timeOrigin + performance.now();
      const chip = composer.shadowRoot!.querySelector('attachment-chip') as (Element & { progress: number }) | null;
      if (chip) seen = true;
      if (chip && !uploadingAt && chip.progress >= 0) uploadingAt = now;
      if (seen && !chip) resolve({ chosenAt, uploadingAt: uploadingAt || now, sentAt: now });
      else requestAnimationFrame(check);
    };
    check();
  }));
}

const median = (xs: number[]) => Math.round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]);

interface ChatFigures {
  bytes: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** Medians of the parts: choosing → encrypted (re-encode, thumbnail, encrypt), → uploaded, → thumbnail shown at the receiver. */
  prepareMs: number;
  uploadMs: number;
  deliverMs: number;
}

async function sendToThumbnail(runs: number): Promise<Record<string, ChatFigures>> {
  const server = await startTestServer();
  const browser = await launchMediaBrowser();
  try {
    const { alice, bob } = await chatPair(browser, server);
    const out: Record<string, ChatFigures> = {};
    let sent = 0;
    for (const [name, width, height] of [['photo12MP', 4000, 3000], ['photo1MP', 1200, 900]] as const) {
      const jpeg = await makeJpeg(alice, width, height, true);
      const times: number[] = [];
      const parts = { prepare: [] as number[], upload: [] as number[], deliver: [] as number[] };
      for (let r = 0; r < runs; r++) {
        const seen = thumbnailSeenAt(bob, sent);
        const phases = senderPhases(alice);
        const chooser = alice.waitForEvent('filechooser');
        await alice.getByRole('button', { name: 'Attach photo', exact: true }).click();
        await (await chooser).setFiles({ name: `${name}.jpg`, mimeType: 'image/jpeg', buffer: jpeg });
        const shownAt = await seen;
        const { chosenAt, uploadingAt, sentAt } = await phases;
        times.push(shownAt - chosenAt);
        parts.prepare.push(uploadingAt - chosenAt);
        parts.upload.push(sentAt - uploadingAt);
        parts.deliver.push(shownAt - sentAt);
        sent++;
      }
      out[name] = {
        bytes: jpeg.length, medianMs: median(times), minMs: Math.round(Math.min(...times)), maxMs: Math.round(Math.max(...times)),
        prepareMs: median(parts.prepare), uploadMs: median(parts.upload), deliverMs: median(parts.deliver),
      };
    }
    return out;
  } finally {
    await browser.close();
    await server.close();
  }
}

const args = process.argv.slice(2);
if (args.includes('--chat')) {
  const runs = Number(args.find((a) => !a.startsWith('--')) ?? 5);
  if (!Number.isInteger(runs) || runs <= 0) throw new Error('usage: bench/attachments.ts --chat [runs > 0]');
  const results = await sendToThumbnail(runs);
  for (const [name, r] of Object.entries(results)) {
    console.log(`${name.padEnd(10)} ${(r.bytes / 1e6).toFixed(1)} MB JPEG: send → thumbnail at the receiver median ${r.medianMs} ms (min ${r.minMs}, max ${r.maxMs}, ${runs} runs; prepare ${r.prepareMs}, upload ${r.uploadMs}, deliver + thumbnail ${r.deliverMs})`);
  }
  console.log(JSON.stringify({ sendToThumbnail: results }));
  process.exit(0);
}
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
