// web-client/src/media/image-header.ts: JPEG SOF / PNG IHDR / GIF / WebP (VP8, VP8L, VP8X) sizes read without decoding, SVG/HTML refused by magic bytes, truncated and malformed headers rejected, absurd dimensions refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_DIMENSION_LIMITS, HeaderTruncatedError, checkDimensions, readImageHeader, sniffImageType } from '../../web-client/src/media/image-header.ts';
import { MediaError } from '../../web-client/src/media/errors.ts';
import { fitWithin } from '../../web-client/src/media/image.ts';

const u16be = (n: number) => [(n >> 8) & 0xff, n & 0xff];
const u32be = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const u16le = (n: number) => [n & 0xff, (n >> 8) & 0xff];
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
const bytes = (...parts: number[][]) => new Uint8Array(parts.flat());

/** A JPEG header: SOI, an APP1 segment of `app1Len` payload bytes, optional fill bytes, then SOFn. */
function jpeg(width: number, height: number, opts: { sof?: number; app1Len?: number; fill?: number } = {}) {
  const app1 = opts.app1Len ?? 20;
  return bytes(
    [0xff, 0xd8],
    [0xff, 0xe1], u16be(app1 + 2), new Array(app1).fill(0x41),
    [0xff, 0xc4], u16be(4), [0, 0], // a DHT before the frame header must be skipped, not read as SOF
    new Array(opts.fill ?? 0).fill(0xff),
    [0xff, opts.sof ?? 0xc0], u16be(17), [8], u16be(height), u16be(width), [3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1],
  );
}

function png(width: number, height: number) {
  return bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], u32be(13), ascii('IHDR'), u32be(width), u32be(height), [8, 6, 0, 0, 0], [0, 0, 0, 0]);
}

function riff(chunk: string, payload: number[]) {
  const body = [...ascii('WEBP'), ...ascii(chunk), ...[payload.length, 0, 0, 0], ...payload];
  while (body.length < 40) body.push(0);
  return bytes(ascii('RIFF'), [body.length & 0xff, (body.length >> 8) & 0xff, 0, 0], body);
}

test('JPEG: the size comes from the first SOFn, after APP segments, a DHT and fill bytes; progressive and arithmetic frames too', () => {
  assert.deepEqual(readImageHeader(jpeg(4032, 3024)), { mime: 'image/jpeg', width: 4032, height: 3024 });
  assert.deepEqual(readImageHeader(jpeg(640, 480, { sof: 0xc2, fill: 3 })), { mime: 'image/jpeg', width: 640, height: 480 });
  assert.deepEqual(readImageHeader(jpeg(7, 9, { sof: 0xc9 })), { mime: 'image/jpeg', width: 7, height: 9 });
  assert.deepEqual(readImageHeader(jpeg(65535, 65535)), { mime: 'image/jpeg', width: 65535, height: 65535 });
});

test('JPEG: cut anywhere before the size is HeaderTruncatedError; data before a frame header, a bad marker or height 0 is bad_header', () => {
  const full = jpeg(100, 50, { app1Len: 300 });
  const sizeEnd = full.length - 10; // the width field ends 10 bytes before the end (the component specs follow)
  for (let cut = 3; cut < sizeEnd; cut++) {
    assert.throws(() => readImageHeader(full.subarray(0, cut)), HeaderTruncatedError, `cut at ${cut}`);
  }
  assert.throws(() => readImageHeader(bytes([0xff, 0xd8, 0xff, 0xda], u16be(8), [0, 0, 0, 0, 0, 0])), { code: 'bad_header' });
  assert.throws(() => readImageHeader(bytes([0xff, 0xd8, 0xff, 0xd9])), { code: 'bad_header' });
  assert.throws(() => readImageHeader(bytes([0xff, 0xd8, 0xff, 0xe0], u16be(4), [0, 0], [0x12, 0x34])), { code: 'bad_header' });
  assert.throws(() => readImageHeader(bytes([0xff, 0xd8, 0xff, 0xe0], u16be(1))), { code: 'bad_header' });
  assert.throws(() => readImageHeader(jpeg(100, 0)), { code: 'bad_header' });
});

test('PNG: IHDR width and height (32-bit); a PNG whose first chunk is not IHDR is bad_header', () => {
  assert.deepEqual(readImageHeader(png(1, 1)), { mime: 'image/png', width: 1, height: 1 });
  assert.deepEqual(readImageHeader(png(0x7fffffff, 3)), { mime: 'image/png', width: 0x7fffffff, height: 3 });
  const bad = png(10, 10);
  bad.set(ascii('IDAT'), 12);
  assert.throws(() => readImageHeader(bad), { code: 'bad_header' });
  assert.throws(() => readImageHeader(png(10, 10).subarray(0, 20)), HeaderTruncatedError);
});

test('GIF: logical screen size, little-endian, 87a and 89a', () => {
  assert.deepEqual(readImageHeader(bytes(ascii('GIF89a'), u16le(300), u16le(200), [0, 0, 0])), { mime: 'image/gif', width: 300, height: 200 });
  assert.deepEqual(readImageHeader(bytes(ascii('GIF87a'), u16le(65535), u16le(1), [0, 0, 0])), { mime: 'image/gif', width: 65535, height: 1 });
});

test('WebP: VP8 (14-bit sizes, scale bits ignored), VP8L (14 bits minus one) and VP8X (24-bit canvas minus one)', () => {
  const vp8 = riff('VP8 ', [0x30, 0x01, 0x00, 0x9d, 0x01, 0x2a, ...u16le(1024 | 0x4000), ...u16le(768 | 0x8000)]);
  assert.deepEqual(readImageHeader(vp8), { mime: 'image/webp', width: 1024, height: 768 });
  const w = 4000 - 1, h = 3000 - 1;
  const bits = (w & 0x3fff) | ((h & 0x3fff) << 14);
  const vp8l = riff('VP8L', [0x2f, bits & 0xff, (bits >>> 8) & 0xff, (bits >>> 16) & 0xff, (bits >>> 24) & 0xff]);
  assert.deepEqual(readImageHeader(vp8l), { mime: 'image/webp', width: 4000, height: 3000 });
  const cw = 100000 - 1, ch = 20 - 1;
  const vp8x = riff('VP8X', [0x10, 0, 0, 0, cw & 0xff, (cw >> 8) & 0xff, cw >> 16, ch & 0xff, (ch >> 8) & 0xff, ch >> 16]);
  assert.deepEqual(readImageHeader(vp8x), { mime: 'image/webp', width: 100000, height: 20 });
  assert.throws(() => readImageHeader(riff('VP8 ', [0x30, 0x01, 0x00, 0x00, 0x00, 0x00, 1, 0, 1, 0])), { code: 'bad_header' });
  assert.throws(() => readImageHeader(riff('ALPH', [0])), { code: 'bad_header' });
});

test('SVG, HTML, PDF, text and empty input are unsupported_type, whatever their first bytes pretend', () => {
  const refused = [
    '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    '<?xml version="1.0"?><svg/>',
    '<!doctype html><html><script>alert(1)</script>',
    '%PDF-1.7',
    'GIF88a.........',
    'RIFF....WAVEfmt ',
    '',
  ];
  for (const text of refused) {
    assert.equal(sniffImageType(bytes(ascii(text))), undefined, text);
    assert.throws(() => readImageHeader(bytes(ascii(text))), (e: unknown) => e instanceof MediaError && e.code === 'unsupported_type', text);
  }
});

test('checkDimensions refuses more than 16384 px a side or 80 megapixels, and accepts up to the limits', () => {
  checkDimensions({ width: 16384, height: 4882 }); // 79.99 MP
  checkDimensions({ width: 4032, height: 3024 });
  for (const [width, height] of [[16385, 1], [1, 16385], [10000, 8001], [65535, 65535]]) {
    assert.throws(() => checkDimensions({ width, height }), { code: 'too_large' }, `${width}x${height}`);
  }
  assert.throws(() => checkDimensions({ width: 3000, height: 3000 }, { maxSide: 2000, maxPixels: 1e9 }), { code: 'too_large' });
  assert.equal(DEFAULT_DIMENSION_LIMITS.maxPixels, 80_000_000);
});

test('the parsers never throw anything but MediaError and never report a size below 1, on any bytes', () => {
  const prefixes = [[0xff, 0xd8, 0xff], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], ascii('GIF89a'), [...ascii('RIFF'), 0, 0, 0, 0, ...ascii('WEBP')], []];
  fc.assert(
    fc.property(fc.constantFrom(...prefixes), fc.uint8Array({ maxLength: 64 }), (prefix, rest) => {
      try {
        const h = readImageHeader(bytes(prefix, [...rest]));
        return h.width >= 1 && h.height >= 1;
      } catch (e) {
        return e instanceof MediaError;
      }
    }),
    { numRuns: 3000 },
  );
});

test('fitWithin keeps the aspect ratio, caps the long side and never upscales', () => {
  assert.deepEqual(fitWithin(4000, 3000, 2560), { width: 2560, height: 1920 });
  assert.deepEqual(fitWithin(3000, 4000, 320), { width: 240, height: 320 });
  assert.deepEqual(fitWithin(100, 50, 2560), { width: 100, height: 50 });
  assert.deepEqual(fitWithin(10000, 1, 320), { width: 320, height: 1 });
});
