// The active liveness check on a burst of analysed frames: the head must start facing the camera
// and then move as the challenge asked, the frames must differ, and the person must stay the same.
import { embeddingDistance } from '../../biometrics/face/index.js';
import type { ChallengeKind } from './challenge.js';
import { hashDistance } from './frame-hash.js';
import type { HeadPose } from './head-pose.js';

export interface BurstFrame {
  readonly embedding: Float32Array;
  readonly pose: HeadPose;
  /** Perceptual hash of the face (frame-hash.ts). */
  readonly hash: string;
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
  | { ok: true; probe: number; movement: number }
  | { ok: false; reason: 'static_frames' | 'not_facing_camera' | 'challenge_not_followed' | 'identity_changed'; movement?: number };

// Which pose component a challenge moves, and in which direction. Yaw grows towards the image's
// right, which is the user's left (the camera faces them); pitch shrinks when the head tilts up.
const MOVES: Record<ChallengeKind, { axis: keyof HeadPose; sign: 1 | -1 }> = {
  turn_left: { axis: 'yaw', sign: 1 },
  turn_right: { axis: 'yaw', sign: -1 },
  look_up: { axis: 'pitch', sign: -1 },
  look_down: { axis: 'pitch', sign: 1 },
};

export function checkLiveness(frames: readonly BurstFrame[], kind: ChallengeKind, t: LivenessThresholds = DEFAULT_LIVENESS): LivenessResult {
  for (let i = 1; i < frames.length; i++) {
    if (hashDistance(frames[i - 1]!.hash, frames[i]!.hash) <= t.maxSameFrameBits) return { ok: false, reason: 'static_frames' };
  }
  const first = frames[0]!.pose;
  if (Math.abs(first.yaw) > t.maxStartYaw) return { ok: false, reason: 'not_facing_camera' };
  const { axis, sign } = MOVES[kind];
  const other = axis === 'yaw' ? 'pitch' : 'yaw';
  const least = (a: keyof HeadPose) => (a === 'yaw' ? t.minTurn : t.minNod);
  const movement = Math.max(...frames.map((f) => sign * (f.pose[axis] - first[axis])));
  // The asked movement must be made, and be the main one: a turn is not a nod (in units of each
  // axis's smallest accepted movement).
  const sideways = Math.max(...frames.map((f) => Math.abs(f.pose[other] - first[other]))) / least(other);
  if (movement < least(axis) || movement / least(axis) < sideways) return { ok: false, reason: 'challenge_not_followed', movement };
  const probe = frames.reduce((best, f, i) => (Math.abs(f.pose.yaw) < Math.abs(frames[best]!.pose.yaw) ? i : best), 0);
  const drift = Math.max(...frames.map((f) => embeddingDistance(f.embedding, frames[probe]!.embedding)));
  if (drift > t.maxIdentityDrift) return { ok: false, reason: 'identity_changed', movement };
  return { ok: true, probe, movement };
}
