// How well a set of LLRs is calibrated on labelled trials. Both measures weigh the genuine and the
// impostor trials one half each, the 0.5 prior under which an LLR is the log-odds: with the
// natural imbalance (far more impostor trials) a perfectly calibrated LLR would otherwise look
// miscalibrated.
import { softplus } from './logistic-fit.js';

export const DEFAULT_ECE_BINS = 10;

interface Weighted {
  readonly llr: number;
  readonly genuine: boolean;
  readonly weight: number;
}

function weightedTrials(genuine: readonly number[], impostor: readonly number[]): Weighted[] {
  if (genuine.length === 0 || impostor.length === 0) throw new Error('calibration error needs genuine and impostor trials');
  const trials: Weighted[] = [];
  for (const llr of genuine) trials.push({ llr, genuine: true, weight: 1 / (2 * genuine.length) });
  for (const llr of impostor) trials.push({ llr, genuine: false, weight: 1 / (2 * impostor.length) });
  return trials;
}

/**
 * Expected calibration error with equal-mass bins: the trials sorted by LLR are cut into `bins`
 * groups of equal (balanced) weight, each trial going to the bin holding the midpoint of its weight
 * (tied LLRs as one); in each bin the mean posterior σ(LLR) is compared with the weighted fraction
 * of genuine trials, and the absolute gaps are averaged by bin weight. 0 = calibrated; at most 1. Equal mass rather
 * than equal width because the LLRs of a good matcher pile up at both ends, leaving equal-width
 * middle bins nearly empty and noisy.
 */
export function expectedCalibrationError(genuine: readonly number[], impostor: readonly number[], bins = DEFAULT_ECE_BINS): number {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`bins must be a positive integer, got ${bins}`);
  const trials = weightedTrials(genuine, impostor).sort((x, y) => x.llr - y.llr);
  const predicted = new Float64Array(bins);
  const observed = new Float64Array(bins);
  let before = 0;
  for (let start = 0; start < trials.length; ) {
    // Trials with equal LLRs are indistinguishable: they share one bin, whatever their order.
    let end = start;
    let tied = 0;
    while (end < trials.length && trials[end]!.llr === trials[start]!.llr) tied += trials[end++]!.weight;
    const bin = Math.min(bins - 1, Math.floor((before + tied / 2) * bins));
    before += tied;
    for (const t of trials.slice(start, end)) {
      predicted[bin]! += t.weight / (1 + Math.exp(-t.llr));
      if (t.genuine) observed[bin]! += t.weight;
    }
    start = end;
  }
  let ece = 0;
  for (let i = 0; i < bins; i++) ece += Math.abs(predicted[i]! - observed[i]!);
  return ece;
}

/**
 * Cllr, the log-likelihood-ratio cost (Brümmer & du Preez 2006), in bits:
 * ½·mean over genuine of log₂(1 + e^−LLR) + ½·mean over impostors of log₂(1 + e^LLR).
 * 0 is perfect; 1 is what an uninformative LLR of 0 costs; above 1 the LLRs mislead.
 */
export function cllr(genuine: readonly number[], impostor: readonly number[]): number {
  let cost = 0;
  for (const t of weightedTrials(genuine, impostor)) cost += t.weight * softplus(t.genuine ? -t.llr : t.llr);
  return cost / Math.LN2;
}
