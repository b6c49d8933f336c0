/**
 * npm run models:calibrate [-- --face <faces-lfw-dev dir>] [--neural <eeg-eegmat dir>] [--folds 5] [--seed 1]
 *
 * Fits each matcher's calibration (raw score → LLR, src/biometrics/fusion/) on the shared dev data
 * and writes models/face-recognition.calibration.json and, for every current EEG model of the
 * catalog (one per montage: neural-clinical19-v2, neural-consumer8-v2), models/<model>.calibration.json.
 * All in one run, so no current model is left without one (a step without calibration reports no
 * LLR and cannot fuse). Face: every pair of acquired faces-lfw-dev photos through the real pipeline.
 * EEG: out-of-fold scores with each model's own recipe and settings (eeg-out-of-fold.ts), enrolment
 * on the first resting minute, probes of 10 s from the task run and from later rest, pooled.
 * Deterministic apart from the date and commit it records. Prints one JSON line; progress on stderr.
 */
import { writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_MATCH_THRESHOLD } from '../../src/biometrics/face/index.js';
import { calibrationJson, cllr, EEG_SCORE, expectedCalibrationError, FACE_SCORE, fitLlrLine, scoreLlr, type Calibration, type ScoreKind } from '../../src/biometrics/fusion/index.js';
import { isCurrent, neuralModels } from '../../src/biometrics/neural/model-catalog.js';
import { sharedDataDir } from '../../test/unit/face-support.js';
import { repoPath, sharedEegDir } from '../neural/dataset.js';
import { foldTrials, outOfFoldEmbeddings } from './eeg-out-of-fold.js';
import { embedFaceFolder, facePairScores } from './face-scores.js';
import { fitProvenance } from './provenance.js';
import { positiveInt } from '../cli-args.js';

const { values: args } = parseArgs({
  options: { face: { type: 'string' }, neural: { type: 'string' }, folds: { type: 'string', default: '5' }, seed: { type: 'string', default: '1' } },
});
const progress = (line: string): void => void process.stderr.write(`${line}\n`);
const round = (x: number, digits = 4): number => Number(x.toFixed(digits));

function calibrate(matcher: string, model: string, score: ScoreKind, data: string, protocol: string, genuine: readonly number[], impostor: readonly number[]): Calibration {
  const line = fitLlrLine(genuine, impostor, score.direction);
  const llr = (s: number) => scoreLlr(line, s);
  const [g, i] = [genuine.map(llr), impostor.map(llr)];
  return {
    matcher,
    model,
    score,
    ...line,
    fittedOn: { data, genuine: genuine.length, impostor: impostor.length, protocol, ...fitProvenance(), ece: round(expectedCalibrationError(g, i), 5), cllr: round(cllr(g, i), 5) },
  };
}

async function main(): Promise<void> {
  const started = Date.now();
  const faceDir = resolve(args.face ?? join(sharedDataDir(), 'faces-lfw-dev'));
  const eegDir = resolve(args.neural ?? sharedEegDir());
  const folds = positiveInt('folds', args.folds);
  const seed = positiveInt('seed', args.seed);

  const { samples, failedToAcquire } = await embedFaceFolder(faceDir, progress);
  const pairs = facePairScores(samples);
  const face = calibrate(
    'face',
    'face-recognition',
    FACE_SCORE,
    basename(faceDir),
    `every pair of photos the pipeline acquired (${failedToAcquire} not acquired, left out): same folder genuine, different folders impostor; euclidean distance of the plain embeddings`,
    [...pairs.genuine],
    [...pairs.impostor],
  );

  const neural: { calibration: Calibration; threshold: number }[] = [];
  for (const model of neuralModels.filter(isCurrent)) {
    const { folds: heldOut, description, settings } = await outOfFoldEmbeddings(model, eegDir, folds, seed, progress);
    const eegTrials = heldOut.map(foldTrials);
    const name = basename(model.file, '.onnx');
    const calibration = calibrate(
      'neural',
      name,
      EEG_SCORE,
      basename(eegDir),
      `out-of-fold: ${folds} subject-disjoint folds (seed ${seed}), each embedded by a projection refitted on the other folds with ${name}'s settings (PCA ${settings.pcaDims}, shrinkage ${settings.shrinkage}); enrolment on the first resting minute, one 10 s probe per trial from the task run and from rest after 70 s, pooled; trials within a fold only`,
      eegTrials.flatMap((t) => t.genuine),
      eegTrials.flatMap((t) => t.impostor),
    );
    neural.push({ calibration, threshold: description.threshold });
  }

  const written = [face, ...neural.map((n) => n.calibration)];
  for (const calibration of written) await writeFile(repoPath('models', `${calibration.model}.calibration.json`), calibrationJson(calibration));
  const summary = (c: Calibration, threshold: number) => ({ a: round(c.a), b: round(c.b), genuine: c.fittedOn.genuine, impostor: c.fittedOn.impostor, ece: c.fittedOn.ece, cllr: c.fittedOn.cllr, stepThreshold: threshold, llrAtStepThreshold: round(scoreLlr(c, threshold), 2) });
  process.stdout.write(
    `${JSON.stringify({
      face: summary(face, DEFAULT_MATCH_THRESHOLD),
      neural: Object.fromEntries(neural.map(({ calibration, threshold }) => [calibration.model, summary(calibration, threshold)])),
      wrote: written.map((c) => `models/${c.model}.calibration.json`),
      seconds: round((Date.now() - started) / 1000, 1),
    })}\n`,
  );
}

await main();
