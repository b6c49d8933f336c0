/**
 * Out-of-fold EEG embeddings of the eegmat people for calibration and fusion: each current EEG model
 * (catalog, v2) was trained on all 26 of them, so its own scores on them are training scores.
 * Instead the people are dealt into subject-disjoint folds (seeded) and each fold is embedded by a
 * projection fitted, with that model's recipe (scripts/neural/recipe.ts) and settings, on the other
 * folds only: one fit per fold. A score is out of sample only when the projection saw neither the
 * template's person nor the probe's, so trials are only ever formed between people of the same fold.
 */
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { score } from '../../src/biometrics/neural/embedder.js';
import type { NeuralModel } from '../../src/biometrics/neural/model-catalog.js';
import { readModelDescription, type ModelDescription } from '../../src/biometrics/neural/model-file.js';
import { montageByName } from '../../src/biometrics/neural/montage.js';
import { defaultQualityPolicy } from '../../src/biometrics/neural/quality.js';
import { seededRandom } from '../seeded-random.js';
import { listSubjects, repoPath } from '../neural/dataset.js';
import { subjectFeatures, type SubjectFeatures } from '../neural/features-cache.js';
import { embeddingsFor, offlineTrials, type OfflineResult } from '../neural/offline-eval.js';
import { projectionOf } from '../neural/onnx-export.js';
import { projectionFitter, type Projection, type ProjectionOptions } from '../neural/projection.js';
import { trials, type SubjectEmbeddings, type Trials } from '../neural/protocol.js';
import { recipeFor, settingsGrid, shuffledFolds, signalConfig, trainingWindows, type Recipe } from '../neural/recipe.js';

export interface HeldOutFold {
  readonly index: number;
  /** Templates and probes of this fold's people, by a projection fitted without any of them. */
  readonly people: readonly SubjectEmbeddings[];
}

/** One fold's people (features) and the projection fitted, with the model's settings, on the other folds only. */
export interface FoldProjection {
  readonly index: number;
  readonly test: readonly SubjectFeatures[];
  readonly projection: Projection;
}

/** The folds of one model, as projections (`F` = FoldProjection) or as embeddings (`F` = HeldOutFold). */
export interface OutOfFold<F> {
  readonly model: NeuralModel;
  /** The shipped file's own description (threshold, sizes). */
  readonly description: ModelDescription;
  /** The settings models:train-neural chose for the file (shippedSettings). */
  readonly settings: ProjectionOptions;
  readonly folds: readonly F[];
}

/**
 * Largest trial-score difference between the file and a refit that still counts as the same
 * projection: float32 weights put them ~1e-7 apart, the grid's other shrinkages 0.069 or more.
 */
const REPRODUCED_WITHIN = 1e-4;

const allScores = (r: OfflineResult): number[] => [...r.cross.genuine, ...r.cross.impostor, ...r.same.genuine, ...r.same.impostor];

/**
 * The PCA size and shrinkage models:train-neural chose for the file. The file keeps the size (its
 * embedding length) but not the shrinkage, which inference does not need; it is the setting of the
 * recipe's grid whose fit on all the people reproduces the file's scores on them. Without one that
 * does, the folds would calibrate some other model, so that is an error (data other than the
 * people it was trained on, or a recipe changed since).
 */
function shippedSettings(model: NeuralModel, recipe: Recipe, shipped: Projection, people: readonly SubjectFeatures[]): { settings: ProjectionOptions; within: number } {
  const fit = projectionFitter(...trainingWindows(people));
  const reference = allScores(offlineTrials(people, shipped));
  const candidates = settingsGrid(recipe, shipped.inputLength)
    .filter((o) => o.pcaDims === shipped.outputLength)
    .map((settings) => {
      const refit = allScores(offlineTrials(people, fit(settings)));
      return { settings, within: reference.reduce((max, s, i) => Math.max(max, Math.abs(s - (refit[i] as number))), 0) };
    })
    .sort((x, y) => x.within - y.within);
  const best = candidates[0];
  if (best === undefined || !(best.within <= REPRODUCED_WITHIN)) {
    const closest = best ? `closest: shrinkage ${best.settings.shrinkage}, scores up to ${best.within.toPrecision(2)} apart` : `the grid has no PCA size ${shipped.outputLength}`;
    throw new Error(`no setting of the ${model.montage} recipe fitted on these ${people.length} people reproduces ${relative(repoPath(), model.file)} (${closest}): calibrate on the people it was trained on`);
  }
  return best;
}

/** The people dealt into `folds` subject-disjoint folds (seeded), each with its held-out projection. */
export async function outOfFoldProjections(model: NeuralModel, dataDir: string, folds: number, seed: number, progress: (line: string) => void): Promise<OutOfFold<FoldProjection>> {
  const montage = montageByName(model.montage);
  const recipe = recipeFor(montage);
  const bytes = await readFile(model.file);
  const description = readModelDescription(bytes);
  if (!isDeepStrictEqual(description.features, recipe.features)) {
    throw new Error(`${relative(repoPath(), model.file)} was trained on other features than today's ${montage.name} recipe (scripts/neural/recipe.ts): its refit would calibrate another model`);
  }
  const files = await listSubjects(dataDir);
  if (files.length < 2 * folds) throw new Error(`${dataDir} holds ${files.length} subjects; ${folds} folds need at least ${2 * folds}`);
  const signal = signalConfig(montage);
  const subjects: SubjectFeatures[] = [];
  for (const f of files) {
    subjects.push(await subjectFeatures(f, signal, recipe.features, defaultQualityPolicy));
    progress(`EEG ${model.id} features ${f.id}`);
  }
  const { settings, within } = shippedSettings(model, recipe, projectionOf(bytes), subjects);
  progress(`EEG ${model.id}: PCA ${settings.pcaDims}, shrinkage ${settings.shrinkage} fitted on all ${subjects.length} people reproduces the file (trial scores within ${within.toPrecision(2)})`);
  const groups = shuffledFolds(subjects, folds, seededRandom(seed));
  const fitted = groups.map((test, index) => {
    const projection = projectionFitter(...trainingWindows(subjects.filter((s) => !test.includes(s))))(settings);
    progress(`EEG ${model.id} fold ${index + 1}/${folds}: ${test.map((s) => s.id).join(' ')}`);
    return { index, test, projection };
  });
  return { model, description, settings, folds: fitted };
}

export async function outOfFoldEmbeddings(model: NeuralModel, dataDir: string, folds: number, seed: number, progress: (line: string) => void): Promise<OutOfFold<HeldOutFold>> {
  const fitted = await outOfFoldProjections(model, dataDir, folds, seed, progress);
  return { ...fitted, folds: fitted.folds.map(({ index, test, projection }) => ({ index, people: embeddingsFor(test, projection) })) };
}

/** The protocol's trials inside one fold, both probe conditions (task and later rest) pooled. */
export function foldTrials(fold: HeldOutFold): Trials {
  const cross = trials(fold.people, 'crossCondition', score);
  const same = trials(fold.people, 'sameCondition', score);
  return { genuine: [...cross.genuine, ...same.genuine], impostor: [...cross.impostor, ...same.impostor] };
}
