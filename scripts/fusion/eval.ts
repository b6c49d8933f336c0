/**
 * npm run eval:fusion -- --face <faces-lfw-dev dir> --neural <eeg-eegmat dir>
 *                        [--montage clinical19|consumer8] [--faces-per-subject 3] [--folds 5] [--seed 1]
 *
 * Face alone, EEG alone and both fused (summed LLRs) on chimeric users (chimeric-users.ts), every
 * trial scored by all three so they are compared on the same trials: EER, FRR at FAR 1e-3 and
 * 1e-4, and the calibration error (ECE, Cllr) of each; per EEG probe condition (task run = cross,
 * later rest = same). The EEG matcher is the montage's current model; its scores are out of fold
 * (eeg-out-of-fold.ts). Calibration is cross-fitted, never on the trials it scores: the face line
 * on the LFW identities no user has, each fold's EEG line on the other folds' trials. Prints one
 * JSON line; progress on stderr.
 */
import os from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ScoreSet } from '../../src/biometrics/face/evaluation.js';
import { cllr, EEG_SCORE, expectedCalibrationError, FACE_SCORE, fitLlrLine, llrThresholdForFar, scoreLlr, type LlrLine } from '../../src/biometrics/fusion/index.js';
import { isCurrent, neuralModels } from '../../src/biometrics/neural/model-catalog.js';
import { sharedDataDir } from '../../test/unit/face-support.js';
import { seededRandom } from '../seeded-random.js';
import { sharedEegDir } from '../neural/dataset.js';
import { chimericTrials, chimericUsers, type Condition, type Trial } from './chimeric-users.js';
import { foldTrials, outOfFoldEmbeddings } from './eeg-out-of-fold.js';
import { embedFaceFolder, facePairScores } from './face-scores.js';
import { positiveInt } from '../cli-args.js';

const { values: args } = parseArgs({
  options: {
    face: { type: 'string' },
    neural: { type: 'string' },
    montage: { type: 'string', default: 'clinical19' },
    'faces-per-subject': { type: 'string', default: '3' },
    folds: { type: 'string', default: '5' },
    seed: { type: 'string', default: '1' },
  },
});
const progress = (line: string): void => void process.stderr.write(`${line}\n`);
const round = (x: number, digits = 5): number => Number(x.toFixed(digits));
const TARGET_FARS = [1e-3, 1e-4] as const;

/** Error rates and calibration of LLRs (accept = LLR ≥ threshold). */
function figures(genuine: readonly number[], impostor: readonly number[]) {
  // ScoreSet accepts low values (it was written for distances): give it negated LLRs.
  const set = new ScoreSet(genuine.map((x) => -x), impostor.map((x) => -x));
  const atLlrThreshold = set.at(-llrThresholdForFar(1e-4));
  return {
    eer: round(set.equalErrorRate().eer),
    frrAtFar1e3: round(set.frrAtFar(TARGET_FARS[0]).frr),
    frrAtFar1e4: round(set.frrAtFar(TARGET_FARS[1]).frr),
    ece: round(expectedCalibrationError(genuine, impostor)),
    cllr: round(cllr(genuine, impostor)),
    /** At the analytic threshold −ln(1e-4) of fused-decision.ts: what a `far: 1e-4` flow would do. */
    atLlrThresholdFor1e4: { far: round(atLlrThreshold.far, 6), frr: round(atLlrThreshold.frr) },
  };
}

function conditionReport(trials: ReturnType<typeof chimericTrials>, face: LlrLine, eegByFold: readonly LlrLine[]) {
  const llrs = (t: Trial) => {
    const f = scoreLlr(face, t.face);
    const e = scoreLlr(eegByFold[t.fold]!, t.eeg);
    return { face: f, eeg: e, fused: f + e };
  };
  const g = trials.genuine.map(llrs);
  const i = trials.impostor.map(llrs);
  const of = (m: 'face' | 'eeg' | 'fused') => figures(g.map((x) => x[m]), i.map((x) => x[m]));
  const [faceAlone, eegAlone, fused] = [of('face'), of('eeg'), of('fused')];
  const betterSingle = Math.min(faceAlone.frrAtFar1e4, eegAlone.frrAtFar1e4);
  return {
    // An empirical FAR of 1e-4 needs at least 10,000 impostor trials to mean anything.
    trials: { genuine: g.length, impostor: i.length, enoughFor1e4: i.length >= 1 / TARGET_FARS[1], distinctImpostorScores: trials.distinctImpostorScores },
    face: faceAlone,
    eeg: eegAlone,
    fused,
    bar: { fusedFrrAtFar1e4: fused.frrAtFar1e4, betterSingleFrrAtFar1e4: betterSingle, holds: fused.frrAtFar1e4 <= betterSingle / 2 },
  };
}

async function main(): Promise<void> {
  const started = Date.now();
  const faceDir = resolve(args.face ?? join(sharedDataDir(), 'faces-lfw-dev'));
  const eegDir = resolve(args.neural ?? sharedEegDir());
  const facesPerSubject = positiveInt('faces-per-subject', args['faces-per-subject']);
  const folds = positiveInt('folds', args.folds);
  const seed = positiveInt('seed', args.seed);
  const current = neuralModels.filter(isCurrent);
  const eegModel = current.find((m) => m.montage === args.montage);
  if (eegModel === undefined) throw new Error(`--montage must be one of ${current.map((m) => m.montage).join(', ')}, got ${args.montage}`);

  const { folds: heldOut } = await outOfFoldEmbeddings(eegModel, eegDir, folds, seed, progress);
  const { samples, failedToAcquire } = await embedFaceFolder(faceDir, progress);
  // Its own generator, so the face draw does not depend on how many numbers the folds consumed.
  const users = chimericUsers(heldOut, samples, facesPerSubject, seededRandom(seed + 1));

  const userIdentities = new Set(users.map((u) => u.face.identity));
  const calibrationFaces = samples.filter((s) => !userIdentities.has(s.identity));
  const facePairs = facePairScores(calibrationFaces);
  const face = fitLlrLine([...facePairs.genuine], [...facePairs.impostor], FACE_SCORE.direction);
  const eegTrials = heldOut.map(foldTrials);
  const eegByFold = heldOut.map(({ index }) => {
    const others = eegTrials.filter((_, f) => f !== index);
    return fitLlrLine(others.flatMap((t) => t.genuine), others.flatMap((t) => t.impostor), EEG_SCORE.direction);
  });

  const report = (condition: Condition) => conditionReport(chimericTrials(users, condition), face, eegByFold);
  const crossCondition = report('crossCondition');
  const sameCondition = report('sameCondition');
  const line = (l: LlrLine) => ({ a: round(l.a, 3), b: round(l.b, 3) });
  process.stdout.write(
    `${JSON.stringify({
      data: { face: basename(faceDir), neural: basename(eegDir), eegModel: basename(eegModel.file, '.onnx'), faceScore: FACE_SCORE, eegScore: EEG_SCORE },
      users: {
        count: users.length,
        eegSubjects: new Set(users.map((u) => u.eeg.id)).size,
        faceIdentities: userIdentities.size,
        facesPerEegSubject: facesPerSubject,
        facePhotos: users.reduce((n, u) => n + u.face.photos.length, 0),
        seed,
        eegFolds: folds,
      },
      trials:
        'genuine: every face probe (photos after the enrolled first one) × every EEG probe of the user; impostor: every acquired photo × every EEG probe of an attacking user, ' +
        'both modalities from that same attacker, against the claimed user; the attacker has another EEG person (and face) from the same EEG fold; EEG probes are 10 s windows, cross = task run, same = rest after 70 s',
      calibration: {
        how: `cross-fitted: face on every pair of the ${new Set(calibrationFaces.map((s) => s.identity)).size} ${basename(faceDir)} identities no user has (${facePairs.genuine.length} genuine / ${facePairs.impostor.length} impostor); each EEG fold's line on the out-of-fold trials of the other folds (cross + same pooled)`,
        face: line(face),
        eegByFold: eegByFold.map(line),
      },
      fusedThresholdFor1e4: round(llrThresholdForFar(1e-4), 4),
      crossCondition,
      sameCondition,
      barHolds: { rule: 'fused FRR at FAR 1e-4 ≤ half the better single matcher’s', crossCondition: crossCondition.bar.holds, sameCondition: sameCondition.bar.holds },
      facePhotosNotAcquired: failedToAcquire,
      seconds: round((Date.now() - started) / 1000, 1),
      machine: { cpus: os.cpus().length, loadAverage1m: round(os.loadavg()[0] ?? 0, 2) },
    })}\n`,
  );
}

await main();
