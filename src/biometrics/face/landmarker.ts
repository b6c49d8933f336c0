// 68-point facial landmarks (iBUG 300-W layout) from a square crop around a detected face.
import type * as ort from 'onnxruntime-node';
import { samplePatch, squareCrop, type Box, type Point, type RgbImage } from './image.js';
import { openSession, runSingleOutput } from './onnx-session.js';

const INPUT = 112;

export class Landmarker {
  private constructor(private readonly session: ort.InferenceSession) {}

  static async create(modelPath: string, threads: number): Promise<Landmarker> {
    return new Landmarker(await openSession(modelPath, threads));
  }

  /**
   * Runs the net on the square of side max(width, height)·scale centred on the box (the net was
   * trained on face boxes squared like this) and returns the points in image pixels.
   */
  async locate(image: RgbImage, box: Box, scale = 1): Promise<Point[]> {
    const side = Math.max(box.width, box.height) * scale;
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    const patch = samplePatch(image, squareCrop(cx, cy, side, INPUT), INPUT);
    const out = await runSingleOutput(this.session, patch, [1, INPUT, INPUT, 3], 'landmarks');
    const left = cx - side / 2;
    const top = cy - side / 2;
    const points: Point[] = [];
    for (let i = 0; i < 68; i++) points.push({ x: left + out[i * 2]! * side, y: top + out[i * 2 + 1]! * side });
    return points;
  }
}

/** The tight box around a set of points. */
export function boundingBox(points: readonly Point[]): Box {
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const x = Math.min(...xs);
  const y = Math.min(...ys);
  return { x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y };
}
