// Logistic calibration of one raw score into a log-likelihood ratio: LLR = a·s + b, the maximum-
// likelihood line under class-balanced weights (genuine and impostor trials each weigh one half in
// total), so the fitted log-odds are those of a 0.5 prior, i.e. an LLR, whatever the trial counts.
// Newton's method from (0, 0) on the standardised score with step halving: deterministic, no
// random start, converges in a handful of iterations. No regularisation: a ridge would shrink the
// LLR towards 0 and bias it.
import { oriented, type ScoreDirection } from './score-direction.js';

const MAX_ITERATIONS = 100;
const TOLERANCE = 1e-10;

export interface LlrLine {
  readonly a: number;
  readonly b: number;
}

/** log(1 + e^x) without overflow. */
export function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

export class CalibrationFitError extends Error {}

/**
 * Fits LLR = a·s + b on raw genuine and impostor scores. Refuses non-finite scores, classes that
 * do not overlap (the likelihood then has no maximum: a would grow without bound), and a fit whose
 * slope contradicts `direction` (the scores say the matcher runs the other way).
 */
export function fitLlrLine(genuine: readonly number[], impostor: readonly number[], direction: ScoreDirection): LlrLine {
  if (genuine.length === 0 || impostor.length === 0) throw new CalibrationFitError('calibration needs genuine and impostor scores');
  for (const s of [genuine, impostor]) if (!s.every(Number.isFinite)) throw new CalibrationFitError('calibration scores must be finite (leave failed acquisitions out)');
  // reduce, not Math.min(...): a face calibration has about a million impostor scores.
  const lowestGenuine = genuine.reduce((m, s) => Math.min(m, oriented(direction, s)), Infinity);
  const highestImpostor = impostor.reduce((m, s) => Math.max(m, oriented(direction, s)), -Infinity);
  if (lowestGenuine > highestImpostor) throw new CalibrationFitError('genuine and impostor scores do not overlap: the LLR line is unbounded; calibrate on more (or harder) trials');

  const wg = 1 / (2 * genuine.length);
  const wi = 1 / (2 * impostor.length);
  // Standardise with the balanced weights, for a well-conditioned Hessian.
  let mean = 0;
  for (const s of genuine) mean += wg * s;
  for (const s of impostor) mean += wi * s;
  let variance = 0;
  for (const s of genuine) variance += wg * (s - mean) ** 2;
  for (const s of impostor) variance += wi * (s - mean) ** 2;
  const sd = Math.sqrt(variance);
  const xg = genuine.map((s) => (s - mean) / sd);
  const xi = impostor.map((s) => (s - mean) / sd);

  const loss = (alpha: number, beta: number): number => {
    let sum = 0;
    for (const x of xg) sum += wg * softplus(-(alpha * x + beta));
    for (const x of xi) sum += wi * softplus(alpha * x + beta);
    return sum;
  };

  let alpha = 0;
  let beta = 0;
  let current = loss(alpha, beta);
  for (let iteration = 0; ; iteration++) {
    if (iteration === MAX_ITERATIONS) throw new CalibrationFitError(`calibration did not converge in ${MAX_ITERATIONS} Newton steps`);
    // Gradient and Hessian of the weighted log-loss in (alpha, beta).
    let g1 = 0, g2 = 0, h11 = 0, h12 = 0, h22 = 0;
    const accumulate = (x: number, y: 0 | 1, w: number): void => {
      const p = 1 / (1 + Math.exp(-(alpha * x + beta)));
      const r = w * (p - y);
      const c = w * p * (1 - p);
      g1 += r * x;
      g2 += r;
      h11 += c * x * x;
      h12 += c * x;
      h22 += c;
    };
    for (const x of xg) accumulate(x, 1, wg);
    for (const x of xi) accumulate(x, 0, wi);
    const det = h11 * h22 - h12 * h12;
    if (!(det > 0)) throw new CalibrationFitError('calibration Hessian is singular (all scores equal?)');
    const d1 = (h22 * g1 - h12 * g2) / det;
    const d2 = (h11 * g2 - h12 * g1) / det;
    // Halve the Newton step until the loss does not increase (it rarely has to).
    let t = 1;
    let next = loss(alpha - d1, beta - d2);
    while (next > current && t > 1e-9) {
      t /= 2;
      next = loss(alpha - t * d1, beta - t * d2);
    }
    alpha -= t * d1;
    beta -= t * d2;
    current = next;
    if (Math.max(Math.abs(t * d1), Math.abs(t * d2)) < TOLERANCE) break;
  }

  const a = alpha / sd;
  const b = beta - (alpha * mean) / sd;
  if (oriented(direction, a) <= 0) throw new CalibrationFitError(`the fitted slope (${a}) says the scores are not ${direction}`);
  return { a, b };
}
