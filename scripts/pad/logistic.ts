// L2-regularised logistic regression fitted by Newton's method (IRLS) on standardised features:
// closed-form steps, no learning rate or random start, so the same data give the same weights.
import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import type { LinearHead } from './pad-graph.js';

const ITERATIONS = 25;
const TOLERANCE = 1e-8;

function standardisation(features: readonly Float32Array[]): { mean: Float32Array; scale: Float32Array } {
  const d = features[0]!.length;
  const mean = new Float64Array(d);
  const sq = new Float64Array(d);
  for (const f of features) for (let j = 0; j < d; j++) { mean[j]! += f[j]!; sq[j]! += f[j]! * f[j]!; }
  const n = features.length;
  const scale = new Float32Array(d);
  for (let j = 0; j < d; j++) {
    mean[j]! /= n;
    // A bin that never varies (an unused pattern) gets unit scale rather than a division by zero.
    scale[j] = Math.sqrt(Math.max(sq[j]! / n - mean[j]! * mean[j]!, 0)) || 1;
  }
  return { mean: Float32Array.from(mean), scale };
}

/** Fits P(bona fide | features); `labels` are 1 for bona fide, 0 for attacks; classes weigh equally. */
export function fitLogistic(features: readonly Float32Array[], labels: readonly number[], lambda: number): LinearHead {
  const { mean, scale } = standardisation(features);
  const d = mean.length;
  const n = features.length;
  const rows = features.map((f) => Float64Array.from(f, (v, j) => (v - mean[j]!) / scale[j]!));
  const positives = labels.filter((y) => y === 1).length;
  const classWeight = labels.map((y) => (y === 1 ? n / (2 * positives) : n / (2 * (n - positives))));
  let w = new Float64Array(d + 1); // last entry: bias (not penalised)
  for (let iteration = 0; iteration < ITERATIONS; iteration++) {
    const gradient = new Float64Array(d + 1);
    const h = Array.from({ length: d + 1 }, () => new Float64Array(d + 1));
    for (let i = 0; i < n; i++) {
      const x = rows[i]!;
      let z = w[d]!;
      for (let j = 0; j < d; j++) z += w[j]! * x[j]!;
      const p = 1 / (1 + Math.exp(-z));
      const g = classWeight[i]! * (p - labels[i]!);
      const s = classWeight[i]! * p * (1 - p);
      for (let j = 0; j < d; j++) {
        gradient[j]! += g * x[j]!;
        const sx = s * x[j]!;
        const row = h[j]!;
        for (let k = j; k < d; k++) row[k]! += sx * x[k]!;
        row[d]! += sx;
      }
      gradient[d]! += g;
      h[d]![d]! += s;
    }
    for (let j = 0; j <= d; j++) {
      if (j < d) { gradient[j]! += lambda * w[j]!; h[j]![j]! += lambda; }
      for (let k = 0; k < j; k++) h[j]![k] = h[k]![j]!;
    }
    const step = new CholeskyDecomposition(new Matrix(h.map((row) => Array.from(row)))).solve(Matrix.columnVector(Array.from(gradient))).getColumn(0);
    w = w.map((v, j) => v - step[j]!);
    if (Math.max(...step.map(Math.abs)) < TOLERANCE) break;
  }
  return { mean, scale, weights: Float32Array.from(w.subarray(0, d)), bias: w[d]! };
}

/** The head's score of one feature vector, as the ONNX graph computes it (float32 weights). */
export function headScore(head: LinearHead, features: Float32Array): number {
  let z = head.bias;
  for (let j = 0; j < features.length; j++) z += ((features[j]! - head.mean[j]!) / head.scale[j]!) * head.weights[j]!;
  return 1 / (1 + Math.exp(-z));
}
