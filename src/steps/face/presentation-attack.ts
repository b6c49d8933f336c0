// The PAD decision on a burst: the frames' bona-fide scores are averaged and the mean must reach
// the threshold. A mean rather than "every frame" because single frames of a live face dip under
// the threshold now and then (motion blur, a turned head), and a burst of 5–10 frames would then
// be refused far more often than one frame is; models/face-pad.md measures both rules.
export interface PadDecision {
  readonly live: boolean;
  readonly score: number;
  readonly threshold: number;
  readonly frameScores: readonly number[];
}

export function burstPadScore(frameScores: readonly number[]): number {
  // A score that is not a number (a degenerate picture) counts as an attack: fail closed.
  return frameScores.reduce((sum, s) => sum + (Number.isFinite(s) ? s : 0), 0) / frameScores.length;
}

export function padDecision(frameScores: readonly number[], threshold: number): PadDecision {
  const score = burstPadScore(frameScores);
  return { live: score >= threshold, score, threshold, frameScores };
}
