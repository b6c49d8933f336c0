// Capture-quality checks on the landmarks and the aligned chip: each failing check names its reason.
import { CHIP_SIZE } from './align.js';
import type { FaceErrorReason } from './errors.js';
import type { Point } from './image.js';

export interface QualityThresholds {
  /** Minimum distance between the eye centres, in source-image pixels. */
  readonly minEyeDistance: number;
  /** Minimum variance of the Laplacian over the chip's inner face (sharpness). */
  readonly minSharpness: number;
  /** Largest |yaw| proxy: nose offset from the eye midline over the eye distance. */
  readonly maxYaw: number;
  /** Largest |roll| in degrees (alignment undoes roll, but extreme tilt means bad landmarks). */
  readonly maxRollDegrees: number;
  /** Accepted range of the inner face's mean luminance (0..255). */
  readonly minBrightness: number;
  readonly maxBrightness: number;
  /** Largest share of inner-face pixels that are crushed (< 8) or blown out (> 247). */
  readonly maxClipped: number;
}

export interface QualityReport {
  readonly eyeDistance: number;
  readonly sharpness: number;
  readonly yaw: number;
  readonly rollDegrees: number;
  readonly brightness: number;
  readonly clipped: number;
  /** Failed checks, most fundamental first (size, exposure, pose, sharpness); empty when usable. */
  readonly failures: readonly Extract<FaceErrorReason, 'face_too_small' | 'blurry' | 'bad_pose' | 'bad_exposure'>[];
}

export function assessQuality(landmarks: readonly Point[], chip: Float32Array, t: QualityThresholds): QualityReport {
  // Points 36–41 outline the eye on the image's left (the person's right eye), 42–47 the other.
  const leftEye = centroid(landmarks.slice(36, 42));
  const rightEye = centroid(landmarks.slice(42, 48));
  const nose = landmarks[30]!;
  const eyeDistance = Math.hypot(rightEye.x - leftEye.x, rightEye.y - leftEye.y);
  const rollDegrees = (Math.atan2(rightEye.y - leftEye.y, rightEye.x - leftEye.x) * 180) / Math.PI;
  // Signed distance of the nose tip from the perpendicular bisector of the eyes, in eye distances.
  const mid = { x: (leftEye.x + rightEye.x) / 2, y: (leftEye.y + rightEye.y) / 2 };
  const yaw = ((nose.x - mid.x) * (rightEye.x - leftEye.x) + (nose.y - mid.y) * (rightEye.y - leftEye.y)) / (eyeDistance * eyeDistance);
  const grey = innerFaceGrey(chip);
  const { brightness, clipped } = exposure(grey);
  const sharpness = laplacianVariance(grey);

  const failures: QualityReport['failures'][number][] = [];
  // Root causes first: a dark or washed-out face also has little detail, so exposure precedes blur.
  if (eyeDistance < t.minEyeDistance) failures.push('face_too_small');
  if (brightness < t.minBrightness || brightness > t.maxBrightness || clipped > t.maxClipped) failures.push('bad_exposure');
  if (Math.abs(yaw) > t.maxYaw || Math.abs(rollDegrees) > t.maxRollDegrees) failures.push('bad_pose');
  if (sharpness < t.minSharpness) failures.push('blurry');
  return { eyeDistance, sharpness, yaw, rollDegrees, brightness, clipped, failures };
}

const INNER = { from: Math.round(CHIP_SIZE * 0.25), to: Math.round(CHIP_SIZE * 0.75) };

/** Luma of the chip's central half (the face proper, without background or hair). */
function innerFaceGrey(chip: Float32Array): { side: number; data: Float32Array } {
  const side = INNER.to - INNER.from;
  const data = new Float32Array(side * side);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const i = ((y + INNER.from) * CHIP_SIZE + x + INNER.from) * 3;
      data[y * side + x] = 0.299 * chip[i]! + 0.587 * chip[i + 1]! + 0.114 * chip[i + 2]!;
    }
  }
  return { side, data };
}

function exposure({ data }: { data: Float32Array }): { brightness: number; clipped: number } {
  let sum = 0;
  let clipped = 0;
  for (const v of data) {
    sum += v;
    if (v < 8 || v > 247) clipped++;
  }
  return { brightness: sum / data.length, clipped: clipped / data.length };
}

function laplacianVariance({ side, data }: { side: number; data: Float32Array }): number {
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  for (let y = 1; y < side - 1; y++) {
    for (let x = 1; x < side - 1; x++) {
      const i = y * side + x;
      const l = data[i - 1]! + data[i + 1]! + data[i - side]! + data[i + side]! - 4 * data[i]!;
      sum += l;
      sumSq += l * l;
      n++;
    }
  }
  const mean = sum / n;
  return sumSq / n - mean * mean;
}

function centroid(points: readonly Point[]): Point {
  return {
    x: points.reduce((s, p) => s + p.x, 0) / points.length,
    y: points.reduce((s, p) => s + p.y, 0) / points.length,
  };
}
