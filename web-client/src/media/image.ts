/**
 * Photos: prepare one for sending (size check before decoding, EXIF rotation applied, downscaled,
 * re-encoded so that no EXIF, GPS, camera serial or other metadata survives, plus a thumbnail and
 * a placeholder colour), and turn received bytes into a blob: URL only when they are a real image.
 */
import { MediaError } from './errors.ts';
import { DEFAULT_DIMENSION_LIMITS, HEADER_PROBE_BYTES, HeaderTruncatedError, IMAGE_MIMES, checkDimensions, readImageHeader, type DimensionLimits, type ImageHeader, type ImageMime } from './image-header.ts';

/** Options of preparePhoto. */
export interface PreparePhotoOptions {
  /** Long side of the sent image in pixels (`limits.photoMaxDimension` from GET /api/blobs/limits). */
  maxDimension?: number;
  /** Long side of the thumbnail in pixels. */
  thumbDimension?: number;
  /** Output type. JPEG (default) has no transparency: transparent pixels become white. WebP keeps alpha. */
  mime?: 'image/jpeg' | 'image/webp';
  /** Encoder quality 0–1 of the full image. */
  quality?: number;
  /** Encoder quality 0–1 of the thumbnail. */
  thumbQuality?: number;
  /** Refuse before decoding beyond these. */
  limits?: DimensionLimits;
}

/** A photo ready to encrypt and send. */
export interface PreparedPhoto {
  full: Blob;
  thumb: Blob;
  /** Of `full`, in pixels, after EXIF rotation. */
  width: number;
  height: number;
  thumbWidth: number;
  thumbHeight: number;
  /** Average colour "#rrggbb", shown while the photo loads. */
  placeholder: string;
  mime: 'image/jpeg' | 'image/webp';
}

export const DEFAULT_PHOTO_MAX_DIMENSION = 2560;
export const DEFAULT_THUMB_DIMENSION = 320;

/** The size a w×h image takes with its long side at most `max` (never upscaled, at least 1 px). */
export function fitWithin(width: number, height: number, max: number): { width: number; height: number } {
  const scale = Math.min(1, max / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** Reads the header from the first bytes of `file` (all of it when a JPEG's APP segments are longer). */
export async function readFileHeader(file: Blob): Promise<ImageHeader> {
  const probe = new Uint8Array(await file.slice(0, HEADER_PROBE_BYTES).arrayBuffer());
  try {
    return readImageHeader(probe);
  } catch (err) {
    if (!(err instanceof HeaderTruncatedError) || file.size <= probe.length) throw err;
    return readImageHeader(new Uint8Array(await file.arrayBuffer()));
  }
}

type AnyCanvas = OffscreenCanvas | HTMLCanvasElement;

function makeCanvas(width: number, height: number): AnyCanvas {
  if (typeof OffscreenCanvas !== 'undefined') return new OffscreenCanvas(width, height);
  const c = document.createElement('canvas');
  c.width = width;
  c.height = height;
  return c;
}

function context2d(c: AnyCanvas): OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D {
  const ctx = c.getContext('2d') as OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D | null;
  if (!ctx) throw new MediaError('encode_failed', 'This browser cannot draw the image.');
  return ctx;
}

async function encode(c: AnyCanvas, type: string, quality: number): Promise<Blob> {
  const blob = 'convertToBlob' in c
    ? await c.convertToBlob({ type, quality })
    : await new Promise<Blob | null>((resolve) => (c as HTMLCanvasElement).toBlob(resolve, type, quality));
  // A browser that cannot encode `type` silently falls back to PNG: refuse rather than send that.
  if (!blob || blob.type !== type) throw new MediaError('encode_failed', `This browser cannot encode ${type}.`);
  return blob;
}

/** Draws `source` into a new canvas of w×h; JPEG output gets a white background for transparent pixels. */
function drawScaled(source: CanvasImageSource, width: number, height: number, opaque: boolean): AnyCanvas {
  const c = makeCanvas(width, height);
  const ctx = context2d(c);
  if (opaque) {
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, width, height);
  }
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(source, 0, 0, width, height);
  return c;
}

/** Average colour of a canvas as "#rrggbb" (alpha-weighted, over an 8×8 reduction). */
function averageColour(source: AnyCanvas): string {
  const small = drawScaled(source, 8, 8, false);
  const data = context2d(small).getImageData(0, 0, 8, 8).data;
  let r = 0, g = 0, b = 0, a = 0;
  for (let i = 0; i < data.length; i += 4) {
    const alpha = data[i + 3];
    r += data[i] * alpha;
    g += data[i + 1] * alpha;
    b += data[i + 2] * alpha;
    a += alpha;
  }
  if (a === 0) return '#ffffff';
  const hex = (v: number) => Math.round(v / a).toString(16).padStart(2, '0');
  return `#${hex(r)}${hex(g)}${hex(b)}`;
}

/**
 * Prepares a chosen photo for sending. Refuses (MediaError) a file that is not JPEG/PNG/WebP/GIF
 * by its bytes, or whose header declares more than `limits`, before decoding it. Decodes with
 * EXIF orientation applied, downscales to `maxDimension`, re-encodes (which drops every metadata
 * segment: EXIF, GPS, XMP, ICC, comments) and makes a thumbnail and a placeholder colour.
 * An animated GIF or WebP keeps its first frame.
 */
export async function preparePhoto(file: Blob, opts: PreparePhotoOptions = {}): Promise<PreparedPhoto> {
  const header = await readFileHeader(file);
  checkDimensions(header, opts.limits ?? DEFAULT_DIMENSION_LIMITS);
  const mime = opts.mime ?? 'image/jpeg';
  const opaque = mime === 'image/jpeg';
  let bitmap: ImageBitmap;
  try {
    // Typed from the file's own bytes, so the browser never sniffs it as something else.
    bitmap = await createImageBitmap(new Blob([file], { type: header.mime }), { imageOrientation: 'from-image' });
  } catch (err) {
    throw new MediaError('decode_failed', 'This image could not be opened; it may be damaged.', { cause: err });
  }
  try {
    const size = fitWithin(bitmap.width, bitmap.height, opts.maxDimension ?? DEFAULT_PHOTO_MAX_DIMENSION);
    const fullCanvas = drawScaled(bitmap, size.width, size.height, opaque);
    // Frees the decoded original (48 MB for 12 MP) before encoding; closing twice is harmless.
    bitmap.close();
    const thumbSize = fitWithin(size.width, size.height, opts.thumbDimension ?? DEFAULT_THUMB_DIMENSION);
    const thumbCanvas = drawScaled(fullCanvas, thumbSize.width, thumbSize.height, opaque);
    const [full, thumb] = await Promise.all([encode(fullCanvas, mime, opts.quality ?? 0.85), encode(thumbCanvas, mime, opts.thumbQuality ?? 0.7)]);
    return { full, thumb, width: size.width, height: size.height, thumbWidth: thumbSize.width, thumbHeight: thumbSize.height, placeholder: averageColour(thumbCanvas), mime };
  } finally {
    bitmap.close();
  }
}

/** A received image, checked, as a blob: URL; call `revoke()` when it is no longer shown. */
export interface SafeImage {
  url: string;
  mime: ImageMime;
  width: number;
  height: number;
  revoke(): void;
}

/**
 * Turns decrypted bytes into a blob: URL for an `img`, only when the magic bytes are one of the
 * allowed image types, match `declaredMime` (when one is given) and the header's size is within
 * `limits`. The blob is typed from the bytes, so an SVG, HTML or script payload is never rendered:
 * it is refused with MediaError `unsupported_type`.
 */
export function safeImageFromBytes(bytes: Uint8Array, declaredMime?: string, limits: DimensionLimits = DEFAULT_DIMENSION_LIMITS): SafeImage {
  const header = readImageHeader(bytes);
  if (declaredMime !== undefined) {
    const declared = declaredMime.split(';')[0].trim().toLowerCase();
    if (!(IMAGE_MIMES as readonly string[]).includes(declared)) throw new MediaError('unsupported_type', 'Only JPEG, PNG, WebP and GIF images are shown.');
    if (declared !== header.mime) throw new MediaError('type_mismatch', 'This image is not of the type its message announced.');
  }
  checkDimensions(header, limits);
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: header.mime }));
  return { url, mime: header.mime, width: header.width, height: header.height, revoke: () => URL.revokeObjectURL(url) };
}
