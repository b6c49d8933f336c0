// One decision from several matchers: the sum of their calibrated LLRs (the LLR of the joint
// evidence when the matchers are independent given the claim, as face and brain signal are),
// compared with the threshold of a target false-accept rate.
import { scoreLlr, type Calibration } from './calibration.js';

/**
 * The LLR threshold for a target FAR, set analytically: −ln(FAR). For a calibrated likelihood
 * ratio the impostors' mean LR is exactly 1, so by Markov's inequality
 * P(LR ≥ 1/FAR | impostor) ≤ FAR, for one matcher or the product of any independent ones.
 * Chosen over an empirical quantile of fused impostor scores because it needs no impostor trials
 * at the target rate (the EEG dev set has about 1,800 out-of-fold impostor trials, far from the
 * 10,000+ a 1e-4 quantile needs) and holds for any combination of matchers. It is an upper bound,
 * so the measured FAR is at or below the target (eval:fusion reports both); it is only as good as
 * the calibration in the impostor tail.
 */
export function llrThresholdForFar(far: number): number {
  if (!(far > 0 && far < 1)) throw new RangeError(`target FAR must be in (0, 1), got ${far}`);
  return -Math.log(far);
}

export interface MatcherScore {
  readonly calibration: Calibration;
  /** The matcher's raw score (a distance or a cosine, as its calibration says). */
  readonly score: number;
}

/** One matcher's part in a fused decision. */
export interface MatcherLlr {
  readonly matcher: string;
  /** The matcher's raw score and its calibrated LLR. */
  readonly score: number;
  readonly llr: number;
}

export interface FusedDecision {
  /** Each matcher's LLR, in the order given. */
  readonly llrs: readonly MatcherLlr[];
  readonly llr: number;
  readonly threshold: number;
  readonly accept: boolean;
}

/** Sums matchers' LLRs (already calibrated, e.g. reported by the steps) and accepts when the sum reaches the threshold of `far`. */
export function fuseLlrs(llrs: readonly MatcherLlr[], far: number): FusedDecision {
  if (llrs.length === 0) throw new RangeError('fusion needs at least one matcher score');
  const matchers = llrs.map((m) => m.matcher);
  // The same matcher twice is not independent evidence: summing would count it double.
  if (new Set(matchers).size !== matchers.length) throw new RangeError(`a matcher appears twice in one fusion: ${matchers.join(', ')}`);
  const threshold = llrThresholdForFar(far);
  const llr = llrs.reduce((sum, m) => sum + m.llr, 0);
  return { llrs, llr, threshold, accept: llr >= threshold };
}

/** Calibrates each matcher's raw score and fuses the LLRs (see fuseLlrs). */
export function fusedDecision(scores: readonly MatcherScore[], far: number): FusedDecision {
  return fuseLlrs(
    scores.map(({ calibration, score }) => ({ matcher: calibration.matcher, score, llr: scoreLlr(calibration, score) })),
    far,
  );
}
