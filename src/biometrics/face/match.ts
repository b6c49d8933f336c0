// Comparing a probe embedding with a user's enrolled templates.
import { chordOfAngle, type CancelableScheme, type StoredTemplate } from '../cancelable/index.js';

/**
 * Default decision threshold on the euclidean distance of L2-normalised embeddings, calibrated on
 * faces-lfw-dev (see models/face-recognition.md); deployments may configure their own.
 */
export const DEFAULT_MATCH_THRESHOLD = 0.38;

export interface MatchDecision {
  /** Smallest distance to any enrolled embedding (0 identical … 2 opposite). */
  readonly distance: number;
  readonly threshold: number;
  readonly match: boolean;
}

/** Euclidean distance between two L2-normalised embeddings. */
export function embeddingDistance(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error('embedding sizes differ');
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
  }
  return Math.sqrt(sum);
}

/**
 * Accepts when the probe is within the threshold of any enrolled template. A cancelable template's
 * distance is the euclidean distance of unit vectors at the estimated angle, so the threshold
 * means the same for both kinds.
 */
export function matchAgainst(probe: Float32Array, enrolled: readonly StoredTemplate[], scheme: CancelableScheme, threshold = DEFAULT_MATCH_THRESHOLD): MatchDecision {
  if (enrolled.length === 0) throw new Error('no enrolled templates to compare with');
  const distance = Math.min(...enrolled.map((t) => chordOfAngle(scheme.angleTo(probe, t))));
  return { distance, threshold, match: distance <= threshold };
}
