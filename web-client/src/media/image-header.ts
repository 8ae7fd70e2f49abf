/**
 * Reads the type and declared pixel size of a JPEG, PNG, GIF or WebP from its first bytes, without
 * decoding it, so an image that declares absurd dimensions (a decompression bomb) is refused
 * before the browser allocates memory for it. Magic bytes decide the type, never a name or a
 * declared MIME type, so SVG, HTML or anything else is refused here.
 */
import { MediaError } from './errors.ts';

/** The image types a photo may be sent or shown as. */
export type ImageMime = 'image/jpeg' | 'image/png' | 'image/gif' | 'image/webp';

export const IMAGE_MIMES: readonly ImageMime[] = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'];

/** Type and size (pixels) as the header declares them. */
export interface ImageHeader {
  mime: ImageMime;
  width: number;
  height: number;
}

/** Largest image accepted for decoding. */
export interface DimensionLimits {
  /** Longest side in pixels. */
  maxSide: number;
  /** Width × height. */
  maxPixels: number;
}

/** 16384 px a side (the canvas limit in Chromium and Firefox) and 80 megapixels (~320 MB of RGBA). */
export const DEFAULT_DIMENSION_LIMITS: DimensionLimits = { maxSide: 16384, maxPixels: 80_000_000 };

/** Leading bytes to read first; a JPEG with large APP segments may need more (HeaderTruncatedError). */
export const HEADER_PROBE_BYTES = 256 * 1024;

/** The header ended before the size was found: read more bytes (or the whole file) and try again. */
export class HeaderTruncatedError extends MediaError {
  constructor(what: string) {
    super('bad_header', `The ${what} header is cut short.`);
    this.name = 'HeaderTruncatedError';
  }
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(b: Uint8Array, sig: readonly number[], at = 0): boolean {
  if (b.length < at + sig.length) return false;
  return sig.every((v, i) => b[at + i] === v);
}

function ascii(b: Uint8Array, at: number, len: number): string {
  return String.fromCharCode(...b.subarray(at, at + len));
}

/** The image type the magic bytes say, or undefined for anything else (SVG, HTML, PDF, …). */
export function sniffImageType(b: Uint8Array): ImageMime | undefined {
  if (startsWith(b, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(b, PNG_SIGNATURE)) return 'image/png';
  if (b.length >= 6 && (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a')) return 'image/gif';
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return 'image/webp';
  return undefined;
}

/**
 * Type and declared size of an image. Throws MediaError `unsupported_type` for anything that is
 * not one of the four types, `bad_header` for a malformed header (HeaderTruncatedError when the
 * bytes end too early, so the caller can retry with more).
 */
export function readImageHeader(b: Uint8Array): ImageHeader {
  const mime = sniffImageType(b);
  if (!mime) throw new MediaError('unsupported_type', 'This file is not a JPEG, PNG, WebP or GIF image.');
  const size = mime === 'image/jpeg' ? jpegSize(b) : mime === 'image/png' ? pngSize(b) : mime === 'image/gif' ? gifSize(b) : webpSize(b);
  if (size.width < 1 || size.height < 1) throw new MediaError('bad_header', 'The image declares no width or height.');
  return { mime, ...size };
}

/** Throws MediaError `too_large` when the declared size is beyond `limits`. */
export function checkDimensions(h: { width: number; height: number }, limits: DimensionLimits = DEFAULT_DIMENSION_LIMITS): void {
  if (h.width > limits.maxSide || h.height > limits.maxSide || h.width * h.height > limits.maxPixels) {
    throw new MediaError('too_large', `This image is too large (${h.width} × ${h.height} pixels); the limit is ${limits.maxSide} pixels a side and ${Math.round(limits.maxPixels / 1e6)} megapixels.`);
  }
}

type Size = { width: number; height: number };

function u16be(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}

function u32be(b: Uint8Array, at: number): number {
  return ((b[at] << 24) >>> 0) + ((b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]);
}

/**
 * Walks the JPEG marker segments up to the first SOFn (baseline, progressive, lossless,
 * arithmetic: C0–CF except C4 DHT, C8 JPG, CC DAC), whose payload is precision(1) height(2) width(2).
 */
function jpegSize(b: Uint8Array): Size {
  let at = 2;
  for (;;) {
    if (at >= b.length) throw new HeaderTruncatedError('JPEG');
    if (b[at] !== 0xff) throw new MediaError('bad_header', 'The JPEG header is malformed (no marker where one must be).');
    // Any number of 0xFF fill bytes may precede a marker.
    while (at < b.length && b[at] === 0xff) at++;
    if (at >= b.length) throw new HeaderTruncatedError('JPEG');
    const marker = b[at++];
    // Standalone markers carry no length.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) continue;
    if (marker === 0xd9 || marker === 0xda) throw new MediaError('bad_header', 'The JPEG has no frame header before its image data.');
    if (at + 2 > b.length) throw new HeaderTruncatedError('JPEG');
    const length = u16be(b, at);
    if (length < 2) throw new MediaError('bad_header', 'The JPEG header is malformed (segment shorter than its length field).');
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (length < 8) throw new MediaError('bad_header', 'The JPEG frame header is too short.');
      if (at + 7 > b.length) throw new HeaderTruncatedError('JPEG');
      // A height of 0 means "defined later by a DNL marker": never produced by cameras; refused.
      return { height: u16be(b, at + 3), width: u16be(b, at + 5) };
    }
    at += length;
  }
}

/** PNG: the first chunk must be IHDR (length 13): width(4) height(4), big-endian. */
function pngSize(b: Uint8Array): Size {
  if (b.length < 24) throw new HeaderTruncatedError('PNG');
  if (u32be(b, 8) !== 13 || ascii(b, 12, 4) !== 'IHDR') throw new MediaError('bad_header', 'The PNG does not start with an IHDR chunk.');
  return { width: u32be(b, 16), height: u32be(b, 20) };
}

/** GIF: the logical screen size, little-endian u16s after the 6-byte signature. */
function gifSize(b: Uint8Array): Size {
  if (b.length < 10) throw new HeaderTruncatedError('GIF');
  return { width: b[6] | (b[7] << 8), height: b[8] | (b[9] << 8) };
}

/** WebP: the first chunk is VP8 (lossy), VP8L (lossless) or VP8X (extended, canvas size). */
function webpSize(b: Uint8Array): Size {
  if (b.length < 30) throw new HeaderTruncatedError('WebP');
  const chunk = ascii(b, 12, 4);
  const d = 20; // chunk payload
  if (chunk === 'VP8 ') {
    // frame tag (3) then the key-frame start code 9d 01 2a, then 14-bit sizes (2 bits of scale above).
    if (b[d + 3] !== 0x9d || b[d + 4] !== 0x01 || b[d + 5] !== 0x2a) throw new MediaError('bad_header', 'The WebP (VP8) header has no key-frame start code.');
    return { width: (b[d + 6] | (b[d + 7] << 8)) & 0x3fff, height: (b[d + 8] | (b[d + 9] << 8)) & 0x3fff };
  }
  if (chunk === 'VP8L') {
    if (b[d] !== 0x2f) throw new MediaError('bad_header', 'The WebP (VP8L) header has no signature byte.');
    const bits = b[d + 1] | (b[d + 2] << 8) | (b[d + 3] << 16) | (b[d + 4] << 24);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X') {
    return { width: (b[d + 4] | (b[d + 5] << 8) | (b[d + 6] << 16)) + 1, height: (b[d + 7] | (b[d + 8] << 8) | (b[d + 9] << 16)) + 1 };
  }
  throw new MediaError('bad_header', 'The WebP header has an unknown first chunk.');
}
