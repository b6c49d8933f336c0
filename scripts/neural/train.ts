/**
 * npm run models:train-neural [-- --montage clinical19|consumer8] [--data <eeg-eegmat dir>] [--version 2]
 *
 * Trains the neural-signal embedding on every person in the data folder: the PCA size, shrinkage
 * and threshold are chosen by a subject-disjoint 5-fold cross-validation over those people (the
 * rule of eval:neural-cv's inner loop), then the projection is fitted on all of them and exported as
 * models/neural-<montage>-v<version>.onnx. No person is held out: how the recipe does on people it
 * has never seen is what `npm run eval:neural-cv` measures (nested, the same rule inside each fold).
 * Deterministic: closed-form fitting, seeded fold assignment.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { NeuralEmbedder } from '../../src/biometrics/neural/embedder.js';
import { featureLength } from '../../src/biometrics/neural/features.js';
import { neuralModelFile, neuralModelId } from '../../src/biometrics/neural/model-catalog.js';
import type { ModelDescription } from '../../src/biometrics/neural/model-file.js';
import { montageByName } from '../../src/biometrics/neural/montage.js';
import { defaultQualityPolicy } from '../../src/biometrics/neural/quality.js';
import { seededRandom } from '../seeded-random.js';
import { listSubjects, sharedEegDir } from './dataset.js';
import { evaluateWithEmbedder } from './evaluate.js';
import { subjectFeatures, type SubjectFeatures } from './features-cache.js';
import { projectionModel } from './onnx-export.js';
import { projectionFitter } from './projection.js';
import { chooseSettings, recipeFor, signalConfig, trainingWindows } from './recipe.js';

const { values: args } = parseArgs({
  options: { montage: { type: 'string', default: 'clinical19' }, data: { type: 'string' }, version: { type: 'string', default: '2' } },
});

const SELECTION_FOLDS = 5;
const SELECTION_SEED = 1;

const log = (line: string): void => void process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const started = Date.now();
  const montage = montageByName(args.montage ?? 'clinical19');
  const version = Number(args.version);
  if (!Number.isInteger(version) || version < 2) throw new Error(`--version must be an integer ≥ 2 (version 1 is the model trained on Subject00–15 at commit 357028e), got ${args.version}`);
  const dataDir = args.data ?? sharedEegDir();
  const signal = signalConfig(montage);
  const recipe = recipeFor(montage);
  const { features } = recipe;
  const files = await listSubjects(dataDir);
  if (files.length < SELECTION_FOLDS * 2) throw new Error(`${dataDir} holds ${files.length} subjects; at least ${SELECTION_FOLDS * 2} are needed`);

  log(`montage ${montage.name} (${montage.electrodes.length} channels), ${featureLength(montage.electrodes.length, features)} features per 10 s window (coherence + relative spectrum)`);
  const people: SubjectFeatures[] = [];
  for (const f of files) {
    const t0 = Date.now();
    const s = await subjectFeatures(f, signal, features, defaultQualityPolicy);
    people.push(s);
    log(`features ${s.id}: rest ${s.rest.byStart.size} windows (${s.rest.rejected} rejected), task ${s.task.byStart.size} (${s.task.rejected} rejected) in ${Date.now() - t0} ms`);
  }

  const { options, threshold } = chooseSettings(recipe, people, SELECTION_FOLDS, seededRandom(SELECTION_SEED));
  log(`selected pca ${options.pcaDims} shrink ${options.shrinkage}, threshold ${threshold.toFixed(4)} (out-of-fold impostor scores)`);
  const [samples, labels] = trainingWindows(people);
  log(`fitting on ${samples.length} windows of ${people.length} people (rest + task)`);
  const projection = projectionFitter(samples, labels)(options);

  const description: ModelDescription = {
    montage: montage.name,
    analysisRate: signal.analysisRate,
    highpassHz: signal.highpassHz,
    lowpassHz: signal.lowpassHz,
    windowSeconds: signal.windowSeconds,
    features,
    featureLength: projection.inputLength,
    embeddingLength: projection.outputLength,
    threshold: Number(threshold.toFixed(4)),
  };
  const modelPath = neuralModelFile(montage.name, version);
  await writeFile(modelPath, projectionModel(projection, description));
  log(`wrote ${modelPath}`);

  // Through the exported file and eval:neural's code path: a check of the export, not a held-out figure.
  const embedder = await NeuralEmbedder.load(modelPath);
  const report = {
    montage: montage.name,
    model: neuralModelId(montage.name, version),
    people: people.map((p) => p.id),
    selected: options,
    threshold: description.threshold,
    trainingPeople: await evaluateWithEmbedder(embedder, files, () => undefined),
    trainingSeconds: Number(((Date.now() - started) / 1000).toFixed(1)),
  };
  log(JSON.stringify(report, null, 2));
}

await main();
