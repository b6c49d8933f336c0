// The stored form of a cancelable template and its byte encoding.

/** Format version written in every encoded template; a reader refuses any other. */
export const TEMPLATE_VERSION = 1;
export const SALT_BYTES = 16;
const HEADER_BYTES = 1 + 2 + 4 + SALT_BYTES;

/**
 * What is kept of an embedding: its sign bits under a key derived from the master key and `salt`
 * (the key itself is never stored), with the embedding's dimension so a probe of another model
 * is refused rather than scored.
 */
export interface CancelableTemplate {
  readonly salt: Buffer;
  readonly dimensions: number;
  readonly bitCount: number;
  /** `bitCount` bits, packed little-endian. */
  readonly bits: Uint8Array;
}

/** version u8 | dimensions u16 | bit count u32 | salt | bits (little-endian). */
export function encodeTemplate(t: CancelableTemplate): Buffer {
  const out = Buffer.alloc(HEADER_BYTES + t.bits.length);
  out.writeUInt8(TEMPLATE_VERSION, 0);
  out.writeUInt16LE(t.dimensions, 1);
  out.writeUInt32LE(t.bitCount, 3);
  t.salt.copy(out, 7);
  out.set(t.bits, HEADER_BYTES);
  return out;
}

export function decodeTemplate(bytes: Buffer): CancelableTemplate {
  if (bytes.length < HEADER_BYTES || bytes.readUInt8(0) !== TEMPLATE_VERSION) throw new TemplateFormatError(`not a version ${TEMPLATE_VERSION} cancelable template`);
  const dimensions = bytes.readUInt16LE(1);
  const bitCount = bytes.readUInt32LE(3);
  if (bytes.length !== HEADER_BYTES + Math.ceil(bitCount / 8)) throw new TemplateFormatError('cancelable template has the wrong length');
  return { dimensions, bitCount, salt: Buffer.from(bytes.subarray(7, HEADER_BYTES)), bits: Uint8Array.from(bytes.subarray(HEADER_BYTES)) };
}

/** Fraction of differing bits among the first `count` bits of two packed bit strings. */
export function hammingFraction(a: Uint8Array, b: Uint8Array, count: number): number {
  const whole = count >> 3;
  let differing = 0;
  for (let i = 0; i < whole; i++) differing += POPCOUNT[a[i]! ^ b[i]!]!;
  if (count & 7) differing += POPCOUNT[(a[whole]! ^ b[whole]!) & ((1 << (count & 7)) - 1)]!;
  return differing / count;
}

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, i) => {
  let n = 0;
  for (let x = i; x; x >>= 1) n += x & 1;
  return n;
});

export class TemplateFormatError extends Error {
  override name = 'TemplateFormatError';
}
