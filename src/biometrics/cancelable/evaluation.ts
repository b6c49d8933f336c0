// What the evaluations print about cancelable templates: score distributions, linkability, revocation.
import { percentile } from '../face/evaluation.js';
import { hammingFraction, type CancelableTemplate } from './cancelable-template.js';

export interface Distribution {
  readonly count: number;
  readonly mean: number;
  readonly sd: number;
  readonly quantiles: { readonly p1: number; readonly p5: number; readonly p50: number; readonly p95: number; readonly p99: number };
}

const round4 = (x: number) => Number(x.toFixed(4));

export function distribution(scores: readonly number[]): Distribution {
  const finite = scores.filter(Number.isFinite);
  const mean = finite.reduce((a, b) => a + b, 0) / finite.length;
  const sd = Math.sqrt(finite.reduce((a, b) => a + (b - mean) ** 2, 0) / finite.length);
  const q = (p: number) => round4(percentile(finite, p));
  return { count: finite.length, mean: round4(mean), sd: round4(sd), quantiles: { p1: q(1), p5: q(5), p50: q(50), p95: q(95), p99: q(99) } };
}

/**
 * Global linkability D↔sys of Gomez-Barrero et al. ("General framework to evaluate unlinkability
 * in biometric template protection systems", IEEE TIFS 13(6), 2018), with equal priors: the mean
 * over mated scores of max(0, 2·p(s|mated) / (p(s|mated) + p(s|non-mated)) − 1), densities as
 * histograms over `bins` equal bins. 0: the scores say nothing about whether two templates come
 * from one person; 1: they always tell. Finite samples bias it slightly above 0.
 */
export function globalLinkability(mated: readonly number[], nonMated: readonly number[], bins = 100): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of [...mated, ...nonMated]) {
    if (!Number.isFinite(s)) continue;
    lo = Math.min(lo, s);
    hi = Math.max(hi, s);
  }
  const width = (hi - lo) / bins || 1;
  const histogram = (scores: readonly number[]) => {
    const h = new Float64Array(bins);
    for (const s of scores) if (Number.isFinite(s)) h[Math.min(bins - 1, Math.floor((s - lo) / width))]! += 1 / scores.length;
    return h;
  };
  const m = histogram(mated);
  const n = histogram(nonMated);
  let d = 0;
  for (let i = 0; i < bins; i++) if (m[i]! > 0) d += m[i]! * Math.max(0, (2 * m[i]!) / (m[i]! + n[i]!) - 1);
  return round4(d);
}

export interface LabelledTemplate {
  readonly identity: string;
  readonly template: CancelableTemplate;
}

/**
 * Scores between stored templates as an attacker holding two template tables would compute them,
 * bits against bits (`toScore` maps the Hamming angle to the modality's score): every template of
 * `a` against every template of `b` at another index, split into mated (same identity) and
 * non-mated; plus each template against its own counterpart (same sample) when `b` has one.
 */
export function storedTemplateScores(a: readonly LabelledTemplate[], b: readonly LabelledTemplate[], toScore: (angle: number) => number) {
  const angle = (x: CancelableTemplate, y: CancelableTemplate) => Math.PI * hammingFraction(x.bits, y.bits, Math.min(x.bitCount, y.bitCount));
  const mated: number[] = [];
  const nonMated: number[] = [];
  const sameSample: number[] = [];
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < b.length; j++) {
      const s = toScore(angle(a[i]!.template, b[j]!.template));
      if (i === j) sameSample.push(s);
      else (a[i]!.identity === b[j]!.identity ? mated : nonMated).push(s);
    }
  }
  return { mated, nonMated, sameSample };
}

/**
 * The revocation/unlinkability block both evaluations print: scores between one deployment's
 * templates and another's (`twoKeys`, different master keys) and re-issued ones (`reEnrolment`,
 * same master key, new salts), with the share of each that `accepts` would let through.
 */
export function revocationReport(twoKeys: ReturnType<typeof storedTemplateScores>, reEnrolment: ReturnType<typeof storedTemplateScores>, accepts: (score: number) => boolean) {
  const accepted = (scores: readonly number[]) => Number((scores.filter(accepts).length / scores.length).toFixed(5));
  return {
    twoMasterKeys: {
      mated: distribution(twoKeys.mated),
      sameSample: distribution(twoKeys.sameSample),
      nonMated: distribution(twoKeys.nonMated),
      acceptedAtThreshold: { mated: accepted(twoKeys.mated), sameSample: accepted(twoKeys.sameSample) },
      globalLinkability: globalLinkability(twoKeys.mated, twoKeys.nonMated),
    },
    reEnrolment: {
      mated: distribution(reEnrolment.mated),
      sameSample: distribution(reEnrolment.sameSample),
      acceptedAtThreshold: { mated: accepted(reEnrolment.mated), sameSample: accepted(reEnrolment.sameSample) },
      globalLinkability: globalLinkability(reEnrolment.mated, reEnrolment.nonMated),
    },
  };
}
