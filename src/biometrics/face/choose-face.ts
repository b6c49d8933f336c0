// Picks the one face to verify: refuses an empty frame, and a crowded one unless one face clearly
// dominates. Prominence weighs a face's area by how central it is, because the person verifying
// faces the camera in the middle of the frame, while bystanders and faces cut by the frame's edge
// sit off-centre: a face of similar size beside the user is ambiguous, one at the edge is not.
import type { Detection } from './detector.js';
import { FaceError } from './errors.js';

/** A second face is tolerated while its prominence is below this fraction of the first's. */
export const DOMINANCE_RATIO = 0.5;

export function chooseFace(detections: readonly Detection[], frame: { width: number; height: number }, dominanceRatio = DOMINANCE_RATIO): Detection {
  const ranked = detections
    .map((d) => ({ d, prominence: prominence(d, frame) }))
    .sort((p, q) => q.prominence - p.prominence);
  const [first, second] = ranked;
  if (!first) throw new FaceError('no_face', 'no face found in the image');
  if (second && second.prominence >= dominanceRatio * first.prominence) {
    throw new FaceError('multiple_faces', `${detections.length} faces found and none clearly dominates`, { faces: detections.length });
  }
  return first.d;
}

/** Box area × (1 − r)², r being the box centre's distance from the frame centre over half the diagonal. */
function prominence({ box }: Detection, frame: { width: number; height: number }): number {
  const r = Math.hypot(box.x + box.width / 2 - frame.width / 2, box.y + box.height / 2 - frame.height / 2) / (Math.hypot(frame.width, frame.height) / 2);
  return box.width * box.height * (1 - Math.min(1, r)) ** 2;
}
