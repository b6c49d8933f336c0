// In-memory RGB images and the pixel sampling used to build network inputs.

/** 8-bit interleaved RGB, row-major. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Maps an output pixel (u, v) to a source position: x = a·u - b·v + tx, y = b·u + a·v + ty. */
export interface Similarity {
  readonly a: number;
  readonly b: number;
  readonly tx: number;
  readonly ty: number;
}

/**
 * Samples a size×size patch through a similarity transform with bilinear interpolation into a
 * float NHWC buffer (0..255), the layout the ONNX models take. Outside the image reads as black.
 */
export function samplePatch(image: RgbImage, t: Similarity, size: number): Float32Array {
  const { width, height, data } = image;
  const out = new Float32Array(size * size * 3);
  let o = 0;
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      const x = t.a * u - t.b * v + t.tx;
      const y = t.b * u + t.a * v + t.ty;
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      const fx = x - x0;
      const fy = y - y0;
      for (let c = 0; c < 3; c++) {
        const p00 = pixel(data, width, height, x0, y0, c);
        const p10 = pixel(data, width, height, x0 + 1, y0, c);
        const p01 = pixel(data, width, height, x0, y0 + 1, c);
        const p11 = pixel(data, width, height, x0 + 1, y0 + 1, c);
        out[o++] = (p00 * (1 - fx) + p10 * fx) * (1 - fy) + (p01 * (1 - fx) + p11 * fx) * fy;
      }
    }
  }
  return out;
}

function pixel(data: Uint8Array, width: number, height: number, x: number, y: number, c: number): number {
  if (x < 0 || y < 0 || x >= width || y >= height) return 0;
  return data[(y * width + x) * 3 + c]!;
}

/** The transform that maps a size×size patch onto an axis-aligned square of the image. */
export function squareCrop(centreX: number, centreY: number, side: number, size: number): Similarity {
  const scale = side / size;
  return { a: scale, b: 0, tx: centreX - side / 2 + scale / 2 - 0.5, ty: centreY - side / 2 + scale / 2 - 0.5 };
}

/** The image centred on a black canvas `margin` times its larger side wider on every edge. */
export function padImage(image: RgbImage, margin: number): { image: RgbImage; offset: number } {
  const offset = Math.round(Math.max(image.width, image.height) * margin);
  const width = image.width + 2 * offset;
  const height = image.height + 2 * offset;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < image.height; y++) {
    data.set(image.data.subarray(y * image.width * 3, (y + 1) * image.width * 3), ((y + offset) * width + offset) * 3);
  }
  return { image: { width, height, data }, offset };
}
