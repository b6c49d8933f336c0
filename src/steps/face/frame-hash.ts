// Perceptual hashes of the face in a frame: equal for a re-encoded or slightly altered copy of the
// same frame, different for a new capture of a moving face.
import sharp from 'sharp';
import type { Box } from '../../biometrics/face/index.js';

const COLS = 16;
const ROWS = 16;
export const FRAME_HASH_BITS = COLS * ROWS;

/**
 * Difference hash (dHash) of the face box: the sign of each horizontal brightness step on a
 * 17×16 grey thumbnail, as hex. The image is decoded at the size the pipeline analysed it at.
 */
export async function faceHash(bytes: Uint8Array, box: Box, imageSize: { width: number; height: number }): Promise<string> {
  const left = Math.max(0, Math.floor(box.x));
  const top = Math.max(0, Math.floor(box.y));
  const width = Math.max(1, Math.min(imageSize.width - left, Math.ceil(box.width)));
  const height = Math.max(1, Math.min(imageSize.height - top, Math.ceil(box.height)));
  // Two passes: sharp applies one resize per pipeline.
  const face = await sharp(bytes)
    .rotate()
    .resize(imageSize.width, imageSize.height, { fit: 'fill' })
    .extract({ left, top, width, height })
    .greyscale()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const data = await sharp(face.data, { raw: { width: face.info.width, height: face.info.height, channels: face.info.channels } })
    .resize(COLS + 1, ROWS, { fit: 'fill' })
    .extractChannel(0)
    .raw()
    .toBuffer();
  const bits = Buffer.alloc(FRAME_HASH_BITS / 8);
  for (let y = 0; y < ROWS; y++) {
    for (let x = 0; x < COLS; x++) {
      const i = y * COLS + x;
      if (data[y * (COLS + 1) + x + 1]! > data[y * (COLS + 1) + x]!) bits[i >> 3]! |= 1 << (i & 7);
    }
  }
  return bits.toString('hex');
}

/** Number of differing bits between two hashes. */
export function hashDistance(a: string, b: string): number {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  let n = 0;
  for (let i = 0; i < x.length; i++) {
    let v = x[i]! ^ y[i]!;
    while (v) {
      n += v & 1;
      v >>= 1;
    }
  }
  return n;
}
