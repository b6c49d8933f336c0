/**
 * Out-of-fold EEG embeddings of the eegmat people for calibration and fusion: neural-clinical19-v2
 * was trained on all 26 of them, so its own scores on them are training scores. Instead the people
 * are dealt into subject-disjoint folds (seeded) and each fold is embedded by a projection fitted,
 * with v2's fixed settings, on the other folds only: one fit per fold. A score is out of sample
 * only when the projection saw neither the template's person nor the probe's, so trials are only
 * ever formed between people of the same fold.
 */
import { readFile } from 'node:fs/promises';
import { score } from '../../src/biometrics/neural/embedder.js';
import { readModelDescription, type ModelDescription } from '../../src/biometrics/neural/model-file.js';
import { montageByName } from '../../src/biometrics/neural/montage.js';
import { defaultQualityPolicy } from '../../src/biometrics/neural/quality.js';
import { seededRandom } from '../seeded-random.js';
import { listSubjects, repoPath } from '../neural/dataset.js';
import { subjectFeatures, type SubjectFeatures } from '../neural/features-cache.js';
import { embeddingsFor } from '../neural/offline-eval.js';
import { projectionFitter, type Projection, type ProjectionOptions } from '../neural/projection.js';
import { trials, type SubjectEmbeddings, type Trials } from '../neural/protocol.js';
import { recipes, shuffledFolds, signalConfig, trainingWindows } from '../neural/recipe.js';

/** The model whose scores are calibrated, and the settings models:train-neural chose for it (commit 141ba7e). */
export const EEG_MODEL = { name: 'neural-clinical19-v2', montage: 'clinical19', settings: { pcaDims: 512, shrinkage: 0.3 } satisfies ProjectionOptions } as const;

export interface HeldOutFold {
  readonly index: number;
  /** Templates and probes of this fold's people, by a projection fitted without any of them. */
  readonly people: readonly SubjectEmbeddings[];
}

export interface OutOfFold {
  readonly folds: readonly HeldOutFold[];
  readonly model: ModelDescription;
}

/** The shipped model's description, checked against the settings refitted here. */
async function shippedModel(featureCount: number): Promise<ModelDescription> {
  const model = readModelDescription(await readFile(repoPath('models', `${EEG_MODEL.name}.onnx`)));
  if (model.embeddingLength !== EEG_MODEL.settings.pcaDims || model.featureLength !== featureCount) {
    throw new Error(`models/${EEG_MODEL.name}.onnx has ${model.featureLength} features → ${model.embeddingLength} dimensions; the refit here has ${featureCount} → ${EEG_MODEL.settings.pcaDims}`);
  }
  return model;
}

/** One fold's people (features) and the projection fitted, with v2's settings, on the other folds only. */
export interface FoldProjection {
  readonly index: number;
  readonly test: readonly SubjectFeatures[];
  readonly projection: Projection;
}

/** The people dealt into `folds` subject-disjoint folds (seeded), each with its held-out projection. */
export async function outOfFoldProjections(dataDir: string, folds: number, seed: number, progress: (line: string) => void): Promise<{ folds: FoldProjection[]; model: ModelDescription }> {
  const signal = signalConfig(montageByName(EEG_MODEL.montage));
  const files = await listSubjects(dataDir);
  if (files.length < 2 * folds) throw new Error(`${dataDir} holds ${files.length} subjects; ${folds} folds need at least ${2 * folds}`);
  const subjects: SubjectFeatures[] = [];
  for (const f of files) {
    subjects.push(await subjectFeatures(f, signal, recipes.clinical19.features, defaultQualityPolicy));
    progress(`EEG features ${f.id}`);
  }
  const model = await shippedModel(subjects[0]?.rest.byStart.values().next().value?.length ?? 0);
  const groups = shuffledFolds(subjects, folds, seededRandom(seed));
  const fitted = groups.map((test, index) => {
    const projection = projectionFitter(...trainingWindows(subjects.filter((s) => !test.includes(s))))(EEG_MODEL.settings);
    progress(`EEG fold ${index + 1}/${folds}: ${test.map((s) => s.id).join(' ')}`);
    return { index, test, projection };
  });
  return { folds: fitted, model };
}

export async function outOfFoldEmbeddings(dataDir: string, folds: number, seed: number, progress: (line: string) => void): Promise<OutOfFold> {
  const { folds: fitted, model } = await outOfFoldProjections(dataDir, folds, seed, progress);
  return { folds: fitted.map(({ index, test, projection }) => ({ index, people: embeddingsFor(test, projection) })), model };
}

/** The protocol's trials inside one fold, both probe conditions (task and later rest) pooled. */
export function foldTrials(fold: HeldOutFold): Trials {
  const cross = trials(fold.people, 'crossCondition', score);
  const same = trials(fold.people, 'sameCondition', score);
  return { genuine: [...cross.genuine, ...same.genuine], impostor: [...cross.impostor, ...same.impostor] };
}
