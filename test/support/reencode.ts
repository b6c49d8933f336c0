// Re-encodings of a recorded frame that a replay attacker might send instead of the original
// bytes: another JPEG quality, a resize, a shift by a pixel or two, brighter or darker, and mixes.
import sharp from 'sharp';

export type Reencoding = (bytes: Buffer) => Promise<Buffer>;

const jpeg = (quality: number): Reencoding => (b) => sharp(b).jpeg({ quality }).toBuffer();

const resize = (factor: number): Reencoding => async (b) => {
  const { width, height } = await sharp(b).metadata();
  return sharp(b).resize(Math.round(width! * factor), Math.round(height! * factor), { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer();
};

/** The picture moved `px` right and down (edge pixels repeated), same size. */
const shift = (px: number): Reencoding => async (b) => {
  const { width, height } = await sharp(b).metadata();
  const moved = await sharp(b).extend({ left: px, top: px, extendWith: 'copy' }).toBuffer();
  return sharp(moved).extract({ left: 0, top: 0, width: width!, height: height! }).jpeg({ quality: 90 }).toBuffer();
};

const brightness = (factor: number): Reencoding => (b) => sharp(b).linear(factor, 0).jpeg({ quality: 90 }).toBuffer();

const chain = (...steps: Reencoding[]): Reencoding => async (b) => {
  let out = b;
  for (const step of steps) out = await step(out);
  return out;
};

/** Every re-encoding the replay check must see through, by name and family. */
export const REENCODINGS: Record<string, { family: 'jpeg' | 'resize' | 'shift' | 'brightness' | 'combined'; apply: Reencoding }> = {
  'jpeg-q40': { family: 'jpeg', apply: jpeg(40) },
  'jpeg-q70': { family: 'jpeg', apply: jpeg(70) },
  'jpeg-q95': { family: 'jpeg', apply: jpeg(95) },
  'resize-0.5': { family: 'resize', apply: resize(0.5) },
  'resize-0.75': { family: 'resize', apply: resize(0.75) },
  'resize-1.25': { family: 'resize', apply: resize(1.25) },
  'resize-1.5': { family: 'resize', apply: resize(1.5) },
  'shift-1px': { family: 'shift', apply: shift(1) },
  'shift-2px': { family: 'shift', apply: shift(2) },
  'brightness-0.9': { family: 'brightness', apply: brightness(0.9) },
  'brightness-1.1': { family: 'brightness', apply: brightness(1.1) },
  'resize-0.75+shift-2px+brightness-1.1+jpeg-q60': { family: 'combined', apply: chain(resize(0.75), shift(2), brightness(1.1), jpeg(60)) },
  'resize-1.5+shift-1px+brightness-0.9+jpeg-q80': { family: 'combined', apply: chain(resize(1.5), shift(1), brightness(0.9), jpeg(80)) },
  'resize-0.5+brightness-1.1+jpeg-q50': { family: 'combined', apply: chain(resize(0.5), brightness(1.1), jpeg(50)) },
};
