// Logistic calibration of raw scores into LLRs, its error measures, and the calibration file.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CalibrationError,
  CalibrationFitError,
  calibrationJson,
  cllr,
  EEG_SCORE,
  expectedCalibrationError,
  FACE_SCORE,
  fitLlrLine,
  parseCalibration,
  scoreLlr,
  type Calibration,
} from '../../src/biometrics/fusion/index.js';
import { seededRandom } from '../../scripts/seeded-random.js';

/** `n` draws of N(mean, sd²) (Box–Muller on the seeded generator). */
function normals(n: number, mean: number, sd: number, seed: number): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => mean + sd * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()));
}

/** The exact LLR of N(μg, σ²) against N(μi, σ²): linear, slope (μg − μi)/σ², intercept (μi² − μg²)/(2σ²). */
function gaussianLlr(muG: number, muI: number, sd: number): { a: number; b: number } {
  return { a: (muG - muI) / sd ** 2, b: (muI ** 2 - muG ** 2) / (2 * sd ** 2) };
}

const near = (actual: number, expected: number, relative: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= relative * Math.abs(expected), `${what}: ${actual} vs exact ${expected}`);

// Unequal trial counts on purpose: class-balanced weights must make the fit an LLR, not a posterior.
const similarity = { genuine: normals(20_000, 0.6, 0.15, 1), impostor: normals(60_000, 0.1, 0.15, 2), exact: gaussianLlr(0.6, 0.1, 0.15) };
const distance = { genuine: normals(20_000, 0.3, 0.08, 3), impostor: normals(60_000, 0.7, 0.08, 4), exact: gaussianLlr(0.3, 0.7, 0.08) };

test('the fit recovers the exact LLR line of two equal-variance Gaussians (similarity score)', () => {
  const { a, b } = fitLlrLine(similarity.genuine, similarity.impostor, 'higher-is-genuine');
  near(a, similarity.exact.a, 0.03, 'a');
  near(b, similarity.exact.b, 0.03, 'b');
});

test('a distance score gets a negative slope, and smaller distances larger LLRs', () => {
  const line = fitLlrLine(distance.genuine, distance.impostor, FACE_SCORE.direction);
  assert.ok(distance.exact.a < 0);
  near(line.a, distance.exact.a, 0.03, 'a');
  near(line.b, distance.exact.b, 0.03, 'b');
  assert.ok(scoreLlr(line, 0.3) > 0 && scoreLlr(line, 0.7) < 0 && scoreLlr(line, 0.3) > scoreLlr(line, 0.4));
  // A face that could not be acquired scores +∞ and must come out as the strongest refusal.
  assert.equal(scoreLlr(line, Infinity), -Infinity);
});

test('scores whose direction contradicts the declared one are refused, not silently inverted', () => {
  assert.throws(() => fitLlrLine(similarity.genuine, similarity.impostor, 'lower-is-genuine'), CalibrationFitError);
  assert.throws(() => fitLlrLine(distance.genuine, distance.impostor, 'higher-is-genuine'), CalibrationFitError);
});

test('separable, non-finite or one-class scores cannot be calibrated', () => {
  assert.throws(() => fitLlrLine([0.8, 0.9], [0.1, 0.2], 'higher-is-genuine'), /do not overlap/);
  assert.throws(() => fitLlrLine([0.3, Infinity], [0.5, 0.9], 'lower-is-genuine'), /finite/);
  assert.throws(() => fitLlrLine([], [0.5], 'lower-is-genuine'), CalibrationFitError);
});

test('the fit is deterministic', () => {
  assert.deepEqual(fitLlrLine(similarity.genuine, similarity.impostor, 'higher-is-genuine'), fitLlrLine(similarity.genuine, similarity.impostor, 'higher-is-genuine'));
});

test('ECE is near 0 for exact LLRs and clearly above 0 for miscalibrated ones; Cllr agrees', () => {
  // A weak matcher (d' = 1.3): with strong ones nearly all trials sit at posteriors 0 or 1 and
  // every ECE is small.
  const { a, b } = gaussianLlr(0.3, 0.1, 0.15);
  const llr = (s: number) => a * s + b;
  const genuine = normals(20_000, 0.3, 0.15, 5).map(llr);
  const impostor = normals(60_000, 0.1, 0.15, 6).map(llr);
  const calibrated = expectedCalibrationError(genuine, impostor);
  assert.ok(calibrated < 0.01, `calibrated ECE ${calibrated}`);
  for (const [what, wrong] of [
    ['overconfident', (x: number) => 3 * x],
    ['shifted by 2 nats', (x: number) => x + 2],
  ] as const) {
    const miscalibrated = expectedCalibrationError(genuine.map(wrong), impostor.map(wrong));
    assert.ok(miscalibrated > 0.1, `${what}: ECE ${miscalibrated}`);
    assert.ok(cllr(genuine, impostor) < cllr(genuine.map(wrong), impostor.map(wrong)), what);
  }
  // An LLR of 0 says nothing: it costs exactly 1 bit and is perfectly calibrated.
  assert.equal(cllr([0, 0], [0, 0, 0]), 1);
  assert.ok(expectedCalibrationError([0, 0], [0, 0, 0]) < 1e-12);
});

test('the fitted line is at least as well calibrated on its own data as the exact one', () => {
  const line = fitLlrLine(similarity.genuine, similarity.impostor, 'higher-is-genuine');
  const apply = (l: { a: number; b: number }, s: number[]) => s.map((x) => l.a * x + l.b);
  // The fit minimises this very cost (Cllr is the balanced log-loss in bits).
  assert.ok(cllr(apply(line, similarity.genuine), apply(line, similarity.impostor)) <= cllr(apply(similarity.exact, similarity.genuine), apply(similarity.exact, similarity.impostor)));
});

const faceCalibration: Calibration = {
  matcher: 'face',
  model: 'face-recognition',
  score: FACE_SCORE,
  a: -41.5,
  b: 19.25,
  fittedOn: { data: 'faces-lfw-dev', genuine: 7945, impostor: 968558, protocol: 'all pairs', date: '2026-12-07', commit: '2259b9b', ece: 0.01, cllr: 0.08 },
};

test('a calibration survives the JSON round trip', () => {
  const text = calibrationJson(faceCalibration);
  assert.deepEqual(parseCalibration(JSON.parse(text)), faceCalibration);
  const eeg = { ...faceCalibration, matcher: 'neural', model: 'neural-clinical19-v2', score: EEG_SCORE, a: 30, b: -8 };
  assert.deepEqual(parseCalibration(JSON.parse(calibrationJson(eeg))), eeg);
});

test('a calibration file with a missing, unknown or inconsistent field is refused with its path', () => {
  const { b: _b, ...noB } = faceCalibration;
  assert.throws(() => parseCalibration(noB, 'x.json'), (e: unknown) => e instanceof CalibrationError && /^x\.json: b:/.test(e.message));
  assert.throws(() => parseCalibration({ ...faceCalibration, extra: 1 }), CalibrationError);
  assert.throws(() => parseCalibration({ ...faceCalibration, score: { kind: 'euclidean-distance', direction: 'sideways' } }), /score\.direction/);
  // A distance calibration whose slope is positive would rank the worst matches first.
  assert.throws(() => parseCalibration({ ...faceCalibration, a: 41.5 }), /contradicts the score direction/);
  assert.throws(() => parseCalibration(null), CalibrationError);
});
