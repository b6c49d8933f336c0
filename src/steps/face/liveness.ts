// The active liveness check on a burst of analysed frames: the head must start facing the camera
// and then make the challenge's movements in their order, the frames must differ, and the person
// must stay the same.
import { embeddingDistance } from '../../biometrics/face/index.js';
import { CHALLENGE_KINDS, type ChallengeKind } from './challenge.js';
import { hashDistance } from './frame-hash.js';
import type { HeadPose } from './head-pose.js';

export interface BurstFrame {
  readonly embedding: Float32Array;
  readonly pose: HeadPose;
  /** Perceptual hash of the face (frame-hash.ts). */
  readonly hash: string;
  /** Landmark geometry (face-shape.ts). */
  readonly shape: readonly number[];
}

export interface LivenessThresholds {
  /** Largest |yaw| of the first frame: the movement starts from facing the camera. */
  readonly maxStartYaw: number;
  /** Smallest yaw change towards the asked side (eye distances). */
  readonly minTurn: number;
  /** Smallest change of the pitch ratio in the asked direction. */
  readonly minNod: number;
  /** Largest embedding distance of any frame from the burst's most frontal frame. */
  readonly maxIdentityDrift: number;
  /** Consecutive frames closer than this (hash bits) are the same picture. */
  readonly maxSameFrameBits: number;
}

/**
 * Turns of real heads reach a yaw of 0.4–0.6; faces-lfw-dev's photos of one person span about
 * ±0.3. A flat photo turned by hand keeps the nose on the eyes' midline, so its yaw barely moves.
 */
export const DEFAULT_LIVENESS: LivenessThresholds = {
  maxStartYaw: 0.15,
  minTurn: 0.2,
  minNod: 0.1,
  maxIdentityDrift: 0.55,
  maxSameFrameBits: 6,
};

export type LivenessResult =
  | { ok: true; probe: number; performed: ChallengeKind[] }
  | { ok: false; reason: 'static_frames' | 'not_facing_camera' | 'challenge_not_followed' | 'identity_changed'; performed?: ChallengeKind[] };

// Which pose component a movement changes, and in which direction. Yaw grows towards the image's
// right, which is the user's left (the camera faces them); pitch shrinks when the head tilts up.
const MOVES: Record<ChallengeKind, { axis: keyof HeadPose; sign: 1 | -1 }> = {
  turn_left: { axis: 'yaw', sign: 1 },
  turn_right: { axis: 'yaw', sign: -1 },
  look_up: { axis: 'pitch', sign: -1 },
  look_down: { axis: 'pitch', sign: 1 },
};

/**
 * The movement a frame has reached from the burst's first pose: the one that went furthest in
 * units of its smallest accepted change (so a turn is not a nod), if any reached that change.
 */
function reachedMove(pose: HeadPose, start: HeadPose, t: LivenessThresholds): ChallengeKind | undefined {
  let reached: ChallengeKind | undefined;
  let furthest = 1;
  for (const kind of CHALLENGE_KINDS) {
    const { axis, sign } = MOVES[kind];
    const extent = (sign * (pose[axis] - start[axis])) / (axis === 'yaw' ? t.minTurn : t.minNod);
    if (extent >= furthest) [reached, furthest] = [kind, extent];
  }
  return reached;
}

/**
 * The movements the frames show, in their order: each run of consecutive frames at the same
 * reached movement is one movement (frames in between, on the way or back at the centre, reach none).
 */
export function performedMoves(frames: readonly BurstFrame[], t: LivenessThresholds = DEFAULT_LIVENESS): ChallengeKind[] {
  const start = frames[0]!.pose;
  const performed: ChallengeKind[] = [];
  for (const frame of frames) {
    const move = reachedMove(frame.pose, start, t);
    if (move && move !== performed.at(-1)) performed.push(move);
  }
  return performed;
}

export function checkLiveness(frames: readonly BurstFrame[], moves: readonly ChallengeKind[], t: LivenessThresholds = DEFAULT_LIVENESS): LivenessResult {
  for (let i = 1; i < frames.length; i++) {
    if (hashDistance(frames[i - 1]!.hash, frames[i]!.hash) <= t.maxSameFrameBits) return { ok: false, reason: 'static_frames' };
  }
  if (Math.abs(frames[0]!.pose.yaw) > t.maxStartYaw) return { ok: false, reason: 'not_facing_camera' };
  // Exactly the asked movements, each in its own stretch of the burst, in the asked order.
  const performed = performedMoves(frames, t);
  if (performed.length !== moves.length || performed.some((m, i) => m !== moves[i])) return { ok: false, reason: 'challenge_not_followed', performed };
  const probe = frames.reduce((best, f, i) => (Math.abs(f.pose.yaw) < Math.abs(frames[best]!.pose.yaw) ? i : best), 0);
  const drift = Math.max(...frames.map((f) => embeddingDistance(f.embedding, frames[probe]!.embedding)));
  if (drift > t.maxIdentityDrift) return { ok: false, reason: 'identity_changed', performed };
  return { ok: true, probe, performed };
}
