// Bytes → RGB pixels, with limits checked on the header before any pixel is decoded.
import sharp, { type Metadata } from 'sharp';
import { FaceError } from './errors.js';
import type { RgbImage } from './image.js';
import { parseNetpbmHeader } from './netpbm.js';

export interface DecodeLimits {
  /** Largest accepted encoded size. */
  readonly maxBytes: number;
  /** Largest accepted width × height (decompression bombs declare huge sizes in tiny files). */
  readonly maxPixels: number;
  /**
   * Larger photos are scaled down to this longer side while decoding (JPEG shrink-on-load), which
   * bounds memory and time per request; a face filling a tenth of such a frame still has ~200 px.
   */
  readonly maxSide: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = { maxBytes: 10 * 1024 * 1024, maxPixels: 24_000_000, maxSide: 2048 };

/**
 * Decodes JPEG, PNG, WebP (anything sharp reads) or binary PGM/PPM into upright 8-bit sRGB, at most
 * maxSide on its longer side (PGM/PPM, a camera-tool format, is taken as is within maxPixels).
 */
export async function decodeImage(bytes: Uint8Array, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): Promise<RgbImage> {
  if (bytes.length === 0) throw new FaceError('not_an_image', 'empty input');
  if (bytes.length > limits.maxBytes) {
    throw new FaceError('image_too_large', `image is ${bytes.length} bytes, limit ${limits.maxBytes}`, { bytes: bytes.length });
  }
  const netpbm = parseNetpbmHeader(bytes);
  if (netpbm) {
    checkPixels(netpbm.width, netpbm.height, limits);
    const length = netpbm.width * netpbm.height * netpbm.channels;
    if (bytes.length < netpbm.dataOffset + length) throw new FaceError('truncated_image', 'PGM/PPM pixel data is truncated');
    const raw = bytes.subarray(netpbm.dataOffset, netpbm.dataOffset + length);
    return netpbm.channels === 3 ? { width: netpbm.width, height: netpbm.height, data: raw } : greyToRgb(netpbm.width, netpbm.height, raw);
  }

  let meta: Metadata;
  try {
    // Header only: sharp's own pixel limit would reject oversize images as unreadable, not as too large.
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw new FaceError('not_an_image', `not a supported image: ${(error as Error).message}`);
  }
  if (!meta.width || !meta.height) throw new FaceError('not_an_image', 'image has no dimensions');
  checkPixels(meta.width, meta.height, limits);
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: limits.maxPixels, failOn: 'truncated' })
      .rotate() // honour EXIF orientation: phones store portraits sideways
      .resize({ width: limits.maxSide, height: limits.maxSide, fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (error) {
    // The header parsed, so a failure here means damaged or cut-off pixel data.
    throw new FaceError('truncated_image', `image data is damaged or truncated: ${(error as Error).message}`);
  }
}

function checkPixels(width: number, height: number, limits: DecodeLimits): void {
  if (width * height > limits.maxPixels) {
    throw new FaceError('too_many_pixels', `image is ${width}×${height}, limit ${limits.maxPixels} pixels`, { width, height });
  }
}

function greyToRgb(width: number, height: number, grey: Uint8Array): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < grey.length; i++) data.fill(grey[i]!, i * 3, i * 3 + 3);
  return { width, height, data };
}
