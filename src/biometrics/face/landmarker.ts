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
   * Runs the net on the square of side max(width, height) centred on the detector's box (face-api
   * squares its face crops the same way) and returns the points in image pixels. A second pass on
   * the landmarks' own box was measured and did not improve verification.
   */
  async locate(image: RgbImage, box: Box): Promise<Point[]> {
    const side = Math.max(box.width, box.height);
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
