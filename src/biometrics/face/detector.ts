// Face detection: SSD MobileNetV1 (ONNX) on a letterboxed square, box decoding, NMS.
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { ssdAnchors } from './anchors.js';
import type { Box, RgbImage } from './image.js';
import { nonMaxSuppression } from './nms.js';
import { openSession } from './onnx-session.js';

export interface Detection {
  /** In image pixels, clipped to the image. */
  readonly box: Box;
  readonly score: number;
}

export interface DetectOptions {
  readonly minScore: number;
  readonly maxIou: number;
  readonly maxFaces: number;
}

export class FaceDetector {
  private readonly anchors: Float32Array;

  private constructor(private readonly session: ort.InferenceSession, readonly inputSize: number) {
    this.anchors = ssdAnchors(inputSize);
  }

  /** inputSize must be a multiple of 32; 512 is what the model was trained at, smaller is faster. */
  static async create(modelPath: string, inputSize: number, threads: number): Promise<FaceDetector> {
    if (inputSize % 32 !== 0 || inputSize < 128) throw new Error(`detector input size ${inputSize} must be a multiple of 32, ≥ 128`);
    return new FaceDetector(await openSession(modelPath, threads), inputSize);
  }

  async detect(image: RgbImage, options: DetectOptions): Promise<Detection[]> {
    const { pixels, scaleX, scaleY } = await letterbox(image, this.inputSize);
    const size = this.inputSize;
    const result = await this.session.run({ pixels: new ort.Tensor('float32', pixels, [1, size, size, 3]) });
    const encodings = result.encodings?.data as Float32Array | undefined;
    const scores = result.scores?.data as Float32Array | undefined;
    if (!encodings || !scores || scores.length * 4 !== this.anchors.length) throw new Error('detector output does not match its anchors');
    const candidates: Detection[] = [];
    for (let i = 0; i < scores.length; i++) {
      const score = scores[i]!;
      if (score < options.minScore) continue;
      const [ymin, xmin, ymax, xmax] = decodeBox(this.anchors, encodings, i);
      const x0 = clamp(xmin * size * scaleX, 0, image.width);
      const y0 = clamp(ymin * size * scaleY, 0, image.height);
      const x1 = clamp(xmax * size * scaleX, 0, image.width);
      const y1 = clamp(ymax * size * scaleY, 0, image.height);
      if (x1 - x0 < 1 || y1 - y0 < 1) continue;
      candidates.push({ box: { x: x0, y: y0, width: x1 - x0, height: y1 - y0 }, score });
    }
    return nonMaxSuppression(candidates, options.maxIou, options.maxFaces);
  }
}

/**
 * TF object detection's centre/size box coder (scales 10, 10, 5, 5): encodings are offsets of the
 * centre in tenths of the anchor size and log-size ratios in fifths. Returns [ymin, xmin, ymax, xmax].
 */
export function decodeBox(anchors: Float32Array, encodings: Float32Array, i: number): [number, number, number, number] {
  const [ay, ax, ah, aw] = [anchors[i * 4]!, anchors[i * 4 + 1]!, anchors[i * 4 + 2]!, anchors[i * 4 + 3]!];
  const cy = (encodings[i * 4]! / 10) * ah + ay;
  const cx = (encodings[i * 4 + 1]! / 10) * aw + ax;
  const h = Math.exp(encodings[i * 4 + 2]! / 5) * ah;
  const w = Math.exp(encodings[i * 4 + 3]! / 5) * aw;
  return [cy - h / 2, cx - w / 2, cy + h / 2, cx + w / 2];
}

/**
 * Scales the image to fit a size×size square, anchored top-left with black padding as face-api
 * does, and returns NHWC float pixels plus the factors back to image pixels.
 */
async function letterbox(image: RgbImage, size: number): Promise<{ pixels: Float32Array; scaleX: number; scaleY: number }> {
  const scale = size / Math.max(image.width, image.height);
  const width = Math.max(1, Math.min(size, Math.round(image.width * scale)));
  const height = Math.max(1, Math.min(size, Math.round(image.height * scale)));
  const resized = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height, { fit: 'fill' })
    .raw()
    .toBuffer();
  const pixels = new Float32Array(size * size * 3);
  for (let y = 0; y < height; y++) {
    const row = resized.subarray(y * width * 3, (y + 1) * width * 3);
    pixels.set(row, y * size * 3);
  }
  return { pixels, scaleX: image.width / width, scaleY: image.height / height };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
