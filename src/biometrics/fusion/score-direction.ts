// Which way a matcher's raw score points. Face scores are distances (small = same person), EEG
// scores cosines (large = same person); calibration and fusion must never guess which.

export type ScoreDirection = 'lower-is-genuine' | 'higher-is-genuine';

export interface ScoreKind {
  /** What the raw number is, e.g. `euclidean-distance` or `cosine`. */
  readonly kind: string;
  readonly direction: ScoreDirection;
}

/** The face step's score: euclidean distance of unit embeddings (`embeddingDistance`, 0 … 2). */
export const FACE_SCORE: ScoreKind = { kind: 'euclidean-distance', direction: 'lower-is-genuine' };
/** The neural step's score: cosine of template and probe embeddings (−1 … 1). */
export const EEG_SCORE: ScoreKind = { kind: 'cosine', direction: 'higher-is-genuine' };

/** The score turned so that larger always means "more like the same person". */
export function oriented(direction: ScoreDirection, score: number): number {
  return direction === 'higher-is-genuine' ? score : -score;
}
