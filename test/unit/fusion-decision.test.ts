// Fusion of calibrated matchers: summed LLRs against the threshold of a target FAR.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EEG_SCORE, FACE_SCORE, fusedDecision, llrThresholdForFar, type Calibration } from '../../src/biometrics/fusion/index.js';
import { seededRandom } from '../../scripts/seeded-random.js';

const fittedOn = { data: 'synthetic', genuine: 10, impostor: 100, protocol: 'test', date: '2026-12-07', commit: 'test', ece: 0, cllr: 0.1 };
// LLR = −40·distance + 20 (0 at distance 0.5) and LLR = 25·cosine − 6 (0 at cosine 0.24).
const face: Calibration = { matcher: 'face', model: 'face-recognition', score: FACE_SCORE, a: -40, b: 20, fittedOn };
const eeg: Calibration = { matcher: 'neural', model: 'neural-clinical19-v2', score: EEG_SCORE, a: 25, b: -6, fittedOn };

test('the threshold of a target FAR is −ln(FAR)', () => {
  assert.ok(Math.abs(llrThresholdForFar(1e-4) - Math.log(1e4)) < 1e-12);
  assert.throws(() => llrThresholdForFar(0), RangeError);
  assert.throws(() => llrThresholdForFar(1), RangeError);
  assert.throws(() => llrThresholdForFar(Number.NaN), RangeError);
});

test('two matches each too weak alone pass together', () => {
  const far = 1e-4;
  const faceAlone = fusedDecision([{ calibration: face, score: 0.3 }], far); // LLR 8
  const eegAlone = fusedDecision([{ calibration: eeg, score: 0.55 }], far); // LLR 7.75
  assert.equal(faceAlone.accept, false);
  assert.equal(eegAlone.accept, false);
  const both = fusedDecision([{ calibration: face, score: 0.3 }, { calibration: eeg, score: 0.55 }], far);
  assert.equal(both.accept, true);
  assert.ok(Math.abs(both.llr - 15.75) < 1e-9);
  assert.deepEqual(both.llrs.map((m) => m.matcher), ['face', 'neural']);
});

test('a strong EEG match carries a weak face capture, but not a clear face mismatch', () => {
  const strongEeg = { calibration: eeg, score: 0.9 }; // LLR 16.5
  assert.equal(fusedDecision([{ calibration: face, score: 0.6 }, strongEeg], 1e-4).accept, true); // face LLR −4
  assert.equal(fusedDecision([{ calibration: face, score: 0.9 }, strongEeg], 1e-4).accept, false); // face LLR −16
  // No face acquired (distance +∞): nothing can carry it.
  assert.equal(fusedDecision([{ calibration: face, score: Infinity }, strongEeg], 1e-4).accept, false);
});

test('the same matcher cannot be fused with itself', () => {
  assert.throws(() => fusedDecision([{ calibration: face, score: 0.3 }, { calibration: face, score: 0.3 }], 1e-4), /appears twice/);
  assert.throws(() => fusedDecision([], 1e-4), RangeError);
});

test('with exact LLRs the false-accept rate at the threshold stays within the target', () => {
  // Impostor scores of two independent Gaussian matchers (d' = 3 each), exact LLRs summed.
  const random = seededRandom(7);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const d = 3;
  const llr = (x: number) => d * x - (d * d) / 2; // genuine ~ N(d, 1), impostor ~ N(0, 1)
  const n = 200_000;
  for (const far of [1e-2, 1e-3]) {
    const threshold = llrThresholdForFar(far);
    let accepted = 0;
    for (let i = 0; i < n; i++) if (llr(normal()) + llr(normal()) >= threshold) accepted++;
    assert.ok(accepted / n <= far, `FAR ${accepted / n} above target ${far}`);
    assert.ok(accepted > 0, 'the bound should not be vacuous here');
  }
});
