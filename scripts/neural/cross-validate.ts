/**
 * npm run eval:neural-cv [-- --montage clinical19|consumer8] [--data <eeg-eegmat dir>]
 *                          [--repeats 3] [--folds 5] [--inner-folds 4] [--seed 1]
 *
 * How well the training recipe of models:train-neural does on people it has never seen, by nested,
 * repeated, subject-disjoint cross-validation: each repeat shuffles the people (fixed seed) into
 * `folds` groups; for each group, the model is trained on the other people only, with its PCA size,
 * shrinkage and threshold chosen by an inner cross-validation over those same training people, and
 * tested on the group. No test person ever influences the features' projection, the settings or the
 * threshold of the model that scores them. Prints one JSON line: per fold, the mean and standard
 * deviation over folds, and the figures pooled over all test trials of a repeat. Progress on stderr.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { montageByName } from '../../src/biometrics/neural/montage.js';
import { defaultQualityPolicy } from '../../src/biometrics/neural/quality.js';
import { seededRandom } from '../seeded-random.js';
import { listSubjects, sharedEegDir } from './dataset.js';
import { subjectFeatures, type SubjectFeatures } from './features-cache.js';
import { offlineTrials, summarise } from './offline-eval.js';
import { projectionFitter } from './projection.js';
import { roundedMetrics } from './protocol.js';
import { append, chooseSettings, emptyResult, recipeFor, shuffledFolds, signalConfig, trainingWindows } from './recipe.js';
import { positiveInt } from '../cli-args.js';

const { values: args } = parseArgs({
  options: {
    montage: { type: 'string', default: 'clinical19' },
    data: { type: 'string' },
    repeats: { type: 'string', default: '3' },
    folds: { type: 'string', default: '5' },
    'inner-folds': { type: 'string', default: '4' },
    seed: { type: 'string', default: '1' },
  },
});

const progress = (line: string): void => void process.stderr.write(`${line}\n`);
const round = (x: number, digits = 4): number => Number(x.toFixed(digits));

function meanSd(values: readonly number[]): { mean: number; sd: number; min: number; max: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, values.length - 1));
  return { mean: round(mean), sd: round(sd), min: round(Math.min(...values)), max: round(Math.max(...values)) };
}

async function main(): Promise<void> {
  const started = Date.now();
  const montage = montageByName(args.montage ?? 'clinical19');
  const repeats = positiveInt('repeats', args.repeats);
  const k = positiveInt('folds', args.folds);
  const innerK = positiveInt('inner-folds', args['inner-folds']);
  const seed = positiveInt('seed', args.seed);
  const dataDir = args.data ?? sharedEegDir();
  const files = await listSubjects(dataDir);
  if (files.length < k * 2) throw new Error(`${dataDir} holds ${files.length} subjects; ${k} folds need at least ${k * 2}`);

  const signal = signalConfig(montage);
  const subjects: SubjectFeatures[] = [];
  for (const f of files) {
    subjects.push(await subjectFeatures(f, signal, recipeFor(montage).features, defaultQualityPolicy));
    progress(`features ${f.id}`);
  }

  const random = seededRandom(seed);
  const folds: Record<string, unknown>[] = [];
  const crossEers: number[] = [];
  const crossFrrs: number[] = [];
  const sameEers: number[] = [];
  const pooledByRepeat: ReturnType<typeof summarise>[] = [];
  const pooledAtThreshold = { cross: { far: 0, frr: 0 }, same: { far: 0, frr: 0 } };
  for (let r = 0; r < repeats; r++) {
    const pooled = emptyResult();
    for (const test of shuffledFolds(subjects, k, random)) {
      const train = subjects.filter((s) => !test.includes(s));
      const { options, threshold } = chooseSettings(recipeFor(montage), train, innerK, random);
      const result = offlineTrials(test, projectionFitter(...trainingWindows(train))(options));
      append(pooled, result);
      const m = summarise(result, threshold);
      crossEers.push(m.cross.eer);
      crossFrrs.push(m.cross.frrAtFar1);
      sameEers.push(m.same.eer);
      for (const condition of ['cross', 'same'] as const) {
        pooledAtThreshold[condition].far += (m[condition].atThreshold?.far ?? 0) / (repeats * k);
        pooledAtThreshold[condition].frr += (m[condition].atThreshold?.frr ?? 0) / (repeats * k);
      }
      const fold = {
        repeat: r + 1,
        test: test.map((s) => s.id.replace('Subject', '')),
        selected: options,
        threshold: round(threshold),
        cross: roundedMetrics(m.cross),
        same: roundedMetrics(m.same),
      };
      folds.push(fold);
      progress(`repeat ${r + 1} fold [${fold.test.join(' ')}]: pca ${options.pcaDims} shrink ${options.shrinkage}, cross EER ${(m.cross.eer * 100).toFixed(2)}% FRR@FAR1% ${(m.cross.frrAtFar1 * 100).toFixed(2)}%, same EER ${(m.same.eer * 100).toFixed(2)}%`);
    }
    pooledByRepeat.push(summarise(pooled));
  }

  process.stdout.write(
    `${JSON.stringify({
      montage: montage.name,
      subjects: subjects.length,
      design: { repeats, folds: k, innerFolds: innerK, seed, probe: 'one 10 s window', enrolment: 'first minute of the resting run' },
      overFolds: {
        crossEer: meanSd(crossEers),
        crossFrrAtFar1: meanSd(crossFrrs),
        sameEer: meanSd(sameEers),
        atInnerThreshold: {
          cross: { far: round(pooledAtThreshold.cross.far), frr: round(pooledAtThreshold.cross.frr) },
          same: { far: round(pooledAtThreshold.same.far), frr: round(pooledAtThreshold.same.frr) },
        },
      },
      pooledPerRepeat: pooledByRepeat.map((p) => ({
        cross: { eer: round(p.cross.eer), frrAtFar1: round(p.cross.frrAtFar1), trials: [p.cross.genuineTrials, p.cross.impostorTrials] },
        same: { eer: round(p.same.eer), frrAtFar1: round(p.same.frrAtFar1), trials: [p.same.genuineTrials, p.same.impostorTrials] },
      })),
      folds,
      seconds: round((Date.now() - started) / 1000, 1),
      machine: { cpus: os.cpus().length, loadAverage1m: round(os.loadavg()[0] ?? 0, 2) },
    })}\n`,
  );
}

await main();
