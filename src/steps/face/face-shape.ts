// The geometry of the 68 landmarks with position, size and in-plane rotation taken out: the same
// picture re-encoded, rescaled or shifted keeps it; a new capture of the same face (another pose,
// another expression) changes it.
import type { Point } from '../../biometrics/face/index.js';

/** 68 points as [x0, y0, x1, y1, …] in eye distances from the eyes' midpoint, eye line horizontal. */
export function faceShape(landmarks: readonly Point[]): number[] {
  const centre = (from: number, to: number) => {
    const points = landmarks.slice(from, to);
    return { x: points.reduce((s, p) => s + p.x, 0) / points.length, y: points.reduce((s, p) => s + p.y, 0) / points.length };
  };
  const left = centre(36, 42);
  const right = centre(42, 48);
  const origin = { x: (left.x + right.x) / 2, y: (left.y + right.y) / 2 };
  const dx = right.x - left.x;
  const dy = right.y - left.y;
  const scale = dx * dx + dy * dy;
  // Rotate by minus the eye line's angle and divide by the eye distance in one step.
  return landmarks.flatMap((p) => {
    const x = p.x - origin.x;
    const y = p.y - origin.y;
    return [(x * dx + y * dy) / scale, (y * dx - x * dy) / scale];
  });
}

/** Root-mean-square distance between corresponding points of two shapes, in eye distances. */
export function shapeDistance(a: readonly number[], b: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(sum / (a.length / 2));
}

/** Numbers in a shape: x and y of 68 points. */
export const SHAPE_SIZE = 68 * 2;
