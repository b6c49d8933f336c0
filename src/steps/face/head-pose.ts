// Head pose proxies from the 68 landmarks (iBUG 300-W order), without a 3-D model: the nose tip
// stands out from the face plane, so turning or nodding moves it against the eyes and mouth.
import type { Point } from '../../biometrics/face/index.js';

export interface HeadPose {
  /** Nose tip offset along the eye line, in eye distances: > 0 towards the image's right. */
  readonly yaw: number;
  /** Nose tip position between the eye line (0) and the mouth (1): smaller when looking up. */
  readonly pitch: number;
}

const mean = (points: readonly Point[]): Point => ({
  x: points.reduce((s, p) => s + p.x, 0) / points.length,
  y: points.reduce((s, p) => s + p.y, 0) / points.length,
});

export function headPose(landmarks: readonly Point[]): HeadPose {
  const leftEye = mean(landmarks.slice(36, 42));
  const rightEye = mean(landmarks.slice(42, 48));
  const mouth = mean(landmarks.slice(48, 68));
  const nose = landmarks[30]!;
  const eyes = { x: (leftEye.x + rightEye.x) / 2, y: (leftEye.y + rightEye.y) / 2 };
  const axis = { x: rightEye.x - leftEye.x, y: rightEye.y - leftEye.y };
  const eyeDistance = Math.hypot(axis.x, axis.y);
  const along = { x: axis.x / eyeDistance, y: axis.y / eyeDistance };
  // Perpendicular to the eye line, pointing down the face.
  const down = { x: -along.y, y: along.x };
  const project = (p: Point, dir: Point) => (p.x - eyes.x) * dir.x + (p.y - eyes.y) * dir.y;
  return {
    yaw: project(nose, along) / eyeDistance,
    pitch: project(nose, down) / project(mouth, down),
  };
}
