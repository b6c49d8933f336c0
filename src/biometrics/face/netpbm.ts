// Binary PGM/PPM (P5/P6) headers: libvips in sharp's prebuilt binaries does not read them, and
// some camera tools and face datasets (ORL) use them.

export interface NetpbmHeader {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  /** Byte offset of the pixel data. */
  readonly dataOffset: number;
}

/** Returns the header of an 8-bit binary PGM/PPM, or undefined if the bytes are not one. */
export function parseNetpbmHeader(bytes: Uint8Array): NetpbmHeader | undefined {
  if (bytes.length < 2 || bytes[0] !== 0x50 /* P */ || (bytes[1] !== 0x35 && bytes[1] !== 0x36)) return undefined;
  const fields: number[] = [];
  let i = 2;
  while (fields.length < 3) {
    const c = bytes[i];
    if (c === undefined) return undefined;
    if (c === 0x23 /* # comment to end of line */) {
      while (i < bytes.length && bytes[i] !== 0x0a) i++;
    } else if (c >= 0x30 && c <= 0x39) {
      let value = 0;
      while (i < bytes.length && bytes[i]! >= 0x30 && bytes[i]! <= 0x39) value = value * 10 + (bytes[i++]! - 0x30);
      fields.push(value);
      continue;
    } else if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) {
      return undefined;
    }
    i++;
  }
  const [width, height, maxValue] = fields as [number, number, number];
  // Exactly one whitespace byte separates the header from the pixels.
  if (width < 1 || height < 1 || maxValue < 1 || maxValue > 255) return undefined;
  return { width, height, channels: bytes[1] === 0x35 ? 1 : 3, dataOffset: i + 1 };
}
