// The PAD model on real NUAA webcam frames (bona fide and printed photos) at its default
// threshold, the burst rule, and the ISO/IEC 30107-3 error-rate arithmetic of eval:pad.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_PAD_THRESHOLD } from '../../src/biometrics/face/index.js';
import { padDecision } from '../../src/steps/face/presentation-attack.js';
import { BURST_QUALITY } from '../../src/steps/face/burst.js';
import { readPadDataset } from '../../scripts/pad/dataset.js';
import { apcerAtBpcer, errorRates, thresholdAtBpcer } from '../../scripts/pad/metrics.js';
import { NUAA, nuaaBurst, sharedDataDir, sharedPipeline } from './face-support.js';

test('frames of NUAA: live faces score above the default threshold, printed photos below (every 8th frame)', async () => {
  const pipeline = await sharedPipeline();
  const samples = (await readPadDataset(join(sharedDataDir(), NUAA))).filter((_, i) => i % 8 === 0);
  const outcome = { bonaFide: { accepted: 0, total: 0 }, print: { refused: 0, total: 0 } };
  for (const sample of samples) {
    const { pad } = await pipeline.analyse(await readFile(sample.path), BURST_QUALITY).catch(() => ({ pad: undefined }));
    if (pad === undefined) continue; // a frame the pipeline refuses never reaches PAD
    if (sample.kind === 'bona-fide') { outcome.bonaFide.total++; if (pad >= DEFAULT_PAD_THRESHOLD) outcome.bonaFide.accepted++; }
    else { outcome.print.total++; if (pad < DEFAULT_PAD_THRESHOLD) outcome.print.refused++; }
  }
  // These frames were in the training set: this checks the shipped file and its wiring, the
  // held-out figures are in models/face-pad.md.
  assert.ok(outcome.bonaFide.total >= 80 && outcome.print.total >= 80, JSON.stringify(outcome));
  assert.ok(outcome.bonaFide.accepted >= 0.95 * outcome.bonaFide.total, JSON.stringify(outcome));
  assert.ok(outcome.print.refused >= 0.95 * outcome.print.total, JSON.stringify(outcome));
});

test('a print-attack burst is refused and a live burst of the same person accepted by the burst rule', async () => {
  const pipeline = await sharedPipeline();
  const scores = async (frames: Buffer[]) => Promise.all(frames.map(async (f) => (await pipeline.analyse(f, BURST_QUALITY)).pad));
  const print = padDecision(await scores(await nuaaBurst(pipeline, 'print', '0004', '02')), DEFAULT_PAD_THRESHOLD);
  const live = padDecision(await scores(await nuaaBurst(pipeline, 'bona-fide', '0004', '02')), DEFAULT_PAD_THRESHOLD);
  assert.equal(print.live, false, `print burst scored ${print.score}`);
  assert.equal(live.live, true, `live burst scored ${live.score}`);
  assert.equal(print.frameScores.length, 5);
});

test('the burst rule averages frame scores, and a score that is not a number counts as an attack', () => {
  assert.deepEqual(padDecision([0.9, 0.7, 0.8], 0.75), { live: true, score: 0.8000000000000002, threshold: 0.75, frameScores: [0.9, 0.7, 0.8] });
  assert.equal(padDecision([0.9, 0.9, Number.NaN], 0.75).live, false);
  assert.equal(padDecision([0.74, 0.74], 0.75).live, false);
});

test('APCER per species, BPCER and ACER follow ISO/IEC 30107-3 counting', () => {
  const scored = [
    ...[0.9, 0.8, 0.7, 0.6, 0.2].map((score) => ({ kind: 'bona-fide', score })),
    ...[0.1, 0.3, 0.65].map((score) => ({ kind: 'print', score })),
    ...[0.1, 0.2].map((score) => ({ kind: 'screen', score })),
  ];
  const rates = errorRates(scored, 0.5);
  assert.deepEqual(rates.apcer, { print: 1 / 3, screen: 0 });
  assert.equal(rates.worstApcer, 1 / 3);
  assert.equal(rates.bpcer, 1 / 5);
  assert.equal(rates.acer, (1 / 3 + 1 / 5) / 2);
  // At most 20 % of bona-fide presentations refused: the threshold is the second-lowest live score.
  assert.equal(thresholdAtBpcer(scored, 0.2), 0.6);
  assert.equal(apcerAtBpcer(scored, 0.2).worstApcer, 1 / 3);
  // No live presentation refused: the threshold drops to the lowest live score (0.2).
  assert.equal(apcerAtBpcer(scored, 0).worstApcer, 2 / 3);
});
