// Photos in Chromium under the app's CSP: preparePhoto strips EXIF/GPS/serial/comments, applies the EXIF rotation, downscales and makes a thumbnail and placeholder; the header parsers agree with Chromium on real PNG/WebP/GIF files; huge declared sizes and non-images are refused before any decode; safeImageFromBytes shows only real images of the declared type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { chromiumSkipReason, describeProblems, newContext } from '../helpers/browser.ts';
import { launchMediaBrowser, openMediaPage, serveMediaPage } from '../fixtures/media/harness.ts';
import { CANARY, GPS_LATITUDE, app2Segments, jpegMarkers, makeJpeg, u32, withMetadata } from '../fixtures/media/exif-jpeg.ts';

const skip = chromiumSkipReason();
interface PreparedInPage {
  full: string;
  thumb: string;
  width: number;
  height: number;
  thumbWidth: number;
  thumbHeight: number;
  placeholder: string;
  mime: string;
  ms: number;
  /** RGBA of the decoded output at its top-left and top-right corners. */
  topLeft: number[];
  topRight: number[];
}

/** Runs preparePhoto in the page on `bytes` and returns the result (blobs as base64). */
async function prepareInPage(page: Page, bytes: Buffer, opts: { maxDimension?: number } = {}): Promise<PreparedInPage> {
  return page.evaluate(async ({ b64, opts }) => {
    const raw = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const started = performance.now();
    const p = await window.mediaTest.preparePhoto(new Blob([raw], { type: 'image/jpeg' }), opts);
    const ms = performance.now() - started;
    const toB64 = async (blob: Blob) => {
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let s = '';
      for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(s);
    };
    const bitmap = await createImageBitmap(p.full);
    const c = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = c.getContext('2d')!;
    ctx.drawImage(bitmap, 0, 0);
    const px = (x: number, y: number) => [...ctx.getImageData(x, y, 1, 1).data];
    return {
      full: await toB64(p.full), thumb: await toB64(p.thumb), width: p.width, height: p.height, thumbWidth: p.thumbWidth, thumbHeight: p.thumbHeight,
      placeholder: p.placeholder, mime: p.mime, ms, topLeft: px(5, 5), topRight: px(bitmap.width - 6, 5),
    };
  }, { b64: bytes.toString('base64'), opts });
}

const isRed = (px: number[]) => px[0] > 200 && px[1] < 60 && px[2] < 60;
const isBlue = (px: number[]) => px[2] > 200 && px[0] < 60 && px[1] < 60;

test('photos in Chromium', { skip, timeout: 120_000 }, async (t) => {
  const site = await serveMediaPage();
  t.after(() => site.close());
  const browser = await launchMediaBrowser();
  t.after(() => browser.close());
  const context = await newContext(browser);
  const page = await openMediaPage(context, site.origin);

  await t.test('a JPEG with EXIF GPS, a camera serial and a comment comes out with none of them, rotated upright and downscaled', async () => {
    const source = withMetadata(await makeJpeg(page, 1200, 800));
    assert.ok(source.includes(CANARY) && source.includes(Buffer.from('Exif\0\0')) && source.includes(Buffer.from(GPS_LATITUDE.flatMap(u32))), 'the input carries the metadata');
    const out = await prepareInPage(page, source, { maxDimension: 600 });
    const full = Buffer.from(out.full, 'base64');
    const thumb = Buffer.from(out.thumb, 'base64');
    for (const [name, bytes] of [['full', full], ['thumb', thumb]] as const) {
      assert.equal(bytes.readUInt16BE(0), 0xffd8, `${name} is a JPEG`);
      assert.ok(!bytes.includes(CANARY), `${name}: no serial`);
      assert.ok(!bytes.includes(Buffer.from('Exif')), `${name}: no Exif`);
      assert.ok(!bytes.includes(Buffer.from('CanaryCam')), `${name}: no camera make`);
      assert.ok(!bytes.includes(Buffer.from(GPS_LATITUDE.flatMap(u32))), `${name}: no GPS latitude`);
      const metadata = jpegMarkers(bytes).filter((m) => (m >= 0xe1 && m <= 0xef && m !== 0xe2) || m === 0xfe);
      assert.deepEqual(metadata, [], `${name}: no APP1, APP3–APP15 or COM segment`);
      // Chromium's encoder writes the canvas's sRGB ICC profile in APP2: the same bytes for every photo.
      for (const icc of app2Segments(bytes)) assert.ok(icc.subarray(0, 12).equals(Buffer.from('ICC_PROFILE\0')), `${name}: APP2 is an ICC profile`);
    }
    // Orientation 6: the stored 1200×800 is shown 800×1200, capped at 600 on the long side.
    assert.deepEqual([out.width, out.height], [400, 600]);
    assert.deepEqual([out.thumbWidth, out.thumbHeight], [213, 320]);
    assert.equal(out.mime, 'image/jpeg');
    const profiles = [...app2Segments(full), ...app2Segments(thumb), ...app2Segments(await makeJpeg(page, 10, 10))];
    assert.ok(profiles.every((p) => p.equals(profiles[0])), 'every output carries the same colour profile, nothing per photo');
    // The red block was top-left when stored; turned clockwise it is top-right.
    assert.ok(isRed(out.topRight), `top-right is red: ${out.topRight}`);
    assert.ok(isBlue(out.topLeft), `top-left is blue: ${out.topLeft}`);
    assert.match(out.placeholder, /^#[0-9a-f]{6}$/);
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(out.placeholder.slice(i, i + 2), 16));
    assert.ok(b > r && b > 150 && g < 40, `placeholder is mostly blue with some red: ${out.placeholder}`);
  });

  await t.test('huge declared dimensions are refused before anything is decoded; an SVG or HTML file is not a photo', async () => {
    const results = await page.evaluate(async () => {
      let decodes = 0;
      const original = window.createImageBitmap;
      window.createImageBitmap = ((...args: Parameters<typeof createImageBitmap>) => {
        decodes++;
        return original(...args);
      }) as typeof createImageBitmap;
      const sof = (w: number, h: number) => [0xff, 0xd8, 0xff, 0xc0, 0, 17, 8, h >> 8, h & 0xff, w >> 8, w & 0xff, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1];
      const be32 = (n: number) => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
      const png = (w: number, h: number) => [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, ...be32(w), ...be32(h), 8, 6, 0, 0, 0];
      const files: Record<string, BlobPart[]> = {
        'jpeg 30000x30000': [new Uint8Array([...sof(30000, 30000), ...new Array(5000).fill(7)])],
        'png 10000x9000 (90 MP)': [new Uint8Array([...png(10000, 9000), ...new Array(5000).fill(7)])],
        'png 65535x1': [new Uint8Array(png(65535, 1))],
        svg: ['<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>parent.pwned=1</script></svg>'],
        html: ['<!doctype html><img src=x onerror="parent.pwned=1">'],
      };
      const codes: Record<string, string> = {};
      for (const [name, parts] of Object.entries(files)) {
        try {
          await window.mediaTest.preparePhoto(new Blob(parts, { type: 'image/jpeg' }));
          codes[name] = 'accepted';
        } catch (e) {
          codes[name] = (e as { code?: string }).code ?? String(e);
        }
      }
      window.createImageBitmap = original;
      return { codes, decodes, pwned: 'pwned' in window };
    });
    assert.deepEqual(results.codes, { 'jpeg 30000x30000': 'too_large', 'png 10000x9000 (90 MP)': 'too_large', 'png 65535x1': 'too_large', svg: 'unsupported_type', html: 'unsupported_type' });
    assert.equal(results.decodes, 0, 'createImageBitmap was never called');
    assert.equal(results.pwned, false);
  });

  await t.test('safeImageFromBytes: a real JPEG of the declared type becomes a blob: URL an img shows; SVG, HTML, a type mismatch and a huge header are refused', async () => {
    const jpeg = await makeJpeg(page, 64, 48);
    const result = await page.evaluate(async (b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const shown = window.mediaTest.safeImageFromBytes(bytes, 'image/jpeg');
      const img = document.createElement('img');
      img.alt = 'Photo';
      img.src = shown.url;
      document.body.append(img);
      await img.decode();
      const refused: Record<string, string> = {};
      const enc = new TextEncoder();
      const attempts: Record<string, [Uint8Array, string | undefined]> = {
        'svg declared svg': [enc.encode('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'image/svg+xml'],
        'svg declared png': [enc.encode('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'image/png'],
        'html declared jpeg': [enc.encode('<html><script>1</script></html>'), 'image/jpeg'],
        'jpeg declared png': [bytes, 'image/png'],
        'jpeg declared svg': [bytes, 'image/svg+xml'],
        'huge jpeg': [new Uint8Array([0xff, 0xd8, 0xff, 0xc0, 0, 17, 8, 0x4e, 0x20, 0x4e, 0x20, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]), 'image/jpeg'],
      };
      for (const [name, [b, declared]] of Object.entries(attempts)) {
        try {
          window.mediaTest.safeImageFromBytes(b, declared);
          refused[name] = 'accepted';
        } catch (e) {
          refused[name] = (e as { code?: string }).code ?? String(e);
        }
      }
      const out = { url: shown.url, mime: shown.mime, width: shown.width, height: shown.height, natural: [img.naturalWidth, img.naturalHeight], refused };
      img.remove();
      shown.revoke();
      return out;
    }, jpeg.toString('base64'));
    assert.match(result.url, /^blob:http:\/\/127\.0\.0\.1:\d+\//);
    assert.equal(result.mime, 'image/jpeg');
    assert.deepEqual([result.width, result.height], [64, 48]);
    assert.deepEqual(result.natural, [64, 48]);
    assert.deepEqual(result.refused, {
      'svg declared svg': 'unsupported_type',
      'svg declared png': 'unsupported_type',
      'html declared jpeg': 'unsupported_type',
      'jpeg declared png': 'type_mismatch',
      'jpeg declared svg': 'unsupported_type',
      'huge jpeg': 'too_large',
    });
  });

  await t.test('the header parsers agree with Chromium on PNG, WebP (lossy, lossless, with alpha) and GIF files, and each goes through preparePhoto; WebP output keeps alpha, JPEG output turns it white', async () => {
    const result = await page.evaluate(async () => {
      const canvas = (w: number, h: number, alpha: boolean) => {
        const c = new OffscreenCanvas(w, h);
        const ctx = c.getContext('2d')!;
        ctx.fillStyle = alpha ? 'rgba(255, 0, 0, 0.5)' : '#336699';
        ctx.fillRect(0, 0, w, alpha ? h / 2 : h);
        return c;
      };
      // A 3×2 GIF89a by hand (canvas cannot encode GIF): global palette of 2 colours, one image, LZW min code size 2.
      const gif = new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 3, 0, 2, 0, 0x80, 0, 0, 0xff, 0, 0, 0, 0, 0xff, 0x2c, 0, 0, 0, 0, 3, 0, 2, 0, 0, 2, 3, 0x84, 0x8f, 0x50, 0, 0x3b]);
      // Chromium writes every WebP as VP8X (extended, with an ICC profile): lift out the image
      // chunk into a simple-format RIFF to get real VP8 and VP8L headers too.
      const simpleWebp = async (blob: Blob) => {
        const b = new Uint8Array(await blob.arrayBuffer());
        for (let at = 12; at + 8 <= b.length;) {
          const id = String.fromCharCode(...b.subarray(at, at + 4));
          const size = b[at + 4] | (b[at + 5] << 8) | (b[at + 6] << 16) | (b[at + 7] << 24);
          if (id === 'VP8 ' || id === 'VP8L') {
            const chunk = b.subarray(at, at + 8 + size + (size & 1));
            const riffSize = 4 + chunk.length;
            return new Blob([new Uint8Array([0x52, 0x49, 0x46, 0x46, riffSize & 0xff, (riffSize >> 8) & 0xff, (riffSize >> 16) & 0xff, riffSize >>> 24, 0x57, 0x45, 0x42, 0x50]), chunk], { type: 'image/webp' });
          }
          at += 8 + size + (size & 1);
        }
        throw new Error('no VP8/VP8L chunk');
      };
      const files: Record<string, Blob> = {
        'png 301x127': await canvas(301, 127, false).convertToBlob({ type: 'image/png' }),
        'webp lossy 333x111': await simpleWebp(await canvas(333, 111, false).convertToBlob({ type: 'image/webp', quality: 0.8 })),
        'webp lossless 222x99': await simpleWebp(await canvas(222, 99, false).convertToBlob({ type: 'image/webp', quality: 1 })),
        'webp alpha 190x80': await canvas(190, 80, true).convertToBlob({ type: 'image/webp', quality: 0.8 }),
        'gif 3x2': new Blob([gif], { type: 'image/gif' }),
      };
      const out: Record<string, unknown> = {};
      for (const [name, blob] of Object.entries(files)) {
        const bytes = new Uint8Array(await blob.arrayBuffer());
        const header = window.mediaTest.readImageHeader(bytes);
        const chunk = String.fromCharCode(...bytes.subarray(12, 16));
        const decoded = await createImageBitmap(blob);
        const prepared = await window.mediaTest.preparePhoto(blob);
        out[name] = { header: `${header.mime} ${header.width}x${header.height}`, decoded: `${decoded.width}x${decoded.height}`, prepared: `${prepared.mime} ${prepared.width}x${prepared.height}`, chunk: header.mime === 'image/webp' ? chunk : undefined };
      }
      // Transparent lower half: JPEG makes it white, WebP keeps it transparent.
      const transparent = await canvas(100, 100, true).convertToBlob({ type: 'image/png' });
      const pixel = async (blob: Blob) => {
        const c = new OffscreenCanvas(100, 100);
        const ctx = c.getContext('2d')!;
        ctx.drawImage(await createImageBitmap(blob), 0, 0);
        return [...ctx.getImageData(50, 90, 1, 1).data];
      };
      out.jpegBottom = await pixel((await window.mediaTest.preparePhoto(transparent)).full);
      const webp = await window.mediaTest.preparePhoto(transparent, { mime: 'image/webp' });
      out.webpMime = webp.mime;
      out.webpBottom = await pixel(webp.full);
      return out;
    });
    const { jpegBottom, webpBottom, webpMime, ...files } = result as Record<string, unknown>;
    assert.deepEqual(files, {
      'png 301x127': { header: 'image/png 301x127', decoded: '301x127', prepared: 'image/jpeg 301x127', chunk: undefined },
      'webp lossy 333x111': { header: 'image/webp 333x111', decoded: '333x111', prepared: 'image/jpeg 333x111', chunk: 'VP8 ' },
      'webp lossless 222x99': { header: 'image/webp 222x99', decoded: '222x99', prepared: 'image/jpeg 222x99', chunk: 'VP8L' },
      'webp alpha 190x80': { header: 'image/webp 190x80', decoded: '190x80', prepared: 'image/jpeg 190x80', chunk: 'VP8X' },
      'gif 3x2': { header: 'image/gif 3x2', decoded: '3x2', prepared: 'image/jpeg 3x2', chunk: undefined },
    });
    assert.ok((jpegBottom as number[]).every((v) => v > 245), `JPEG: transparent became white ${jpegBottom}`);
    assert.equal(webpMime, 'image/webp');
    assert.ok((webpBottom as number[])[3] < 10, `WebP: transparent stays transparent ${webpBottom}`);
  });

  await t.test('a 12-megapixel camera-sized JPEG is prepared to 2560 px with a small thumbnail (timing reported)', async () => {
    const source = await makeJpeg(page, 4000, 3000, true);
    const out = await prepareInPage(page, source);
    assert.deepEqual([out.width, out.height], [2560, 1920]);
    assert.deepEqual([out.thumbWidth, out.thumbHeight], [320, 240]);
    const thumbBytes = Buffer.from(out.thumb, 'base64').length;
    const fullBytes = Buffer.from(out.full, 'base64').length;
    assert.ok(thumbBytes < 64 * 1024, `thumbnail ${thumbBytes} bytes`);
    t.diagnostic(`12 MP (${(source.length / 1024 / 1024).toFixed(1)} MiB JPEG) → 2560×1920 ${(fullBytes / 1024).toFixed(0)} KiB + thumb 320×240 ${(thumbBytes / 1024).toFixed(1)} KiB in ${out.ms.toFixed(0)} ms`);
  });

  assert.deepEqual(describeProblems([page]), []);
});
