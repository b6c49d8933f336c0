// The EEG models Tessera ships, by id: the one place that names their files and says which is
// current. A template stores the id of the model it was made with and is verified by that model;
// new enrolments use the montage's current one, so retraining never invalidates an enrolment.
import { join } from 'node:path';
import { MODELS_DIR } from '../../paths.js';
import { calibrationBeside, type Calibration } from '../fusion/index.js';
import { NeuralInputError } from './errors.js';
import type { ModelDescription } from './model-file.js';
import type { MontageName } from './montage.js';

export interface NeuralModel {
  /** What a template row stores (`neural_templates.model`, at most 32 characters). */
  readonly id: string;
  readonly montage: MontageName;
  readonly version: number;
  /** Absolute path of the ONNX file. */
  readonly file: string;
}

/** Version 1 has the bare montage name: the id templates were stored with before there were versions. */
export function neuralModelId(montage: string, version: number): string {
  return version === 1 ? montage : `${montage}-v${version}`;
}

/** Where the model of a montage and version lives (or, for scripts/neural/train.ts, is written). */
export function neuralModelFile(montage: string, version: number): string {
  return join(MODELS_DIR, `neural-${neuralModelId(montage, version)}.onnx`);
}

const model = (montage: MontageName, version: number): NeuralModel => ({ id: neuralModelId(montage, version), montage, version, file: neuralModelFile(montage, version) });

/** v1: trained on Subject00–15 (commit 357028e); v2: on all 26 eegmat people (models/neural.md). */
export const neuralModels: readonly NeuralModel[] = [model('clinical19', 1), model('consumer8', 1), model('clinical19', 2), model('consumer8', 2)];

const CURRENT_VERSION: Record<MontageName, number> = { clinical19: 2, consumer8: 2 };

/** The catalog's model of this id; undefined for an id it does not know (a removed or foreign model). */
export function findNeuralModel(id: string): NeuralModel | undefined {
  return neuralModels.find((m) => m.id === id);
}

/** The model new enrolments on this montage use. */
export function currentNeuralModel(montage: MontageName): NeuralModel {
  return findNeuralModel(neuralModelId(montage, CURRENT_VERSION[montage]))!;
}

export function isCurrent(model: NeuralModel): boolean {
  return CURRENT_VERSION[model.montage] === model.version;
}

/**
 * A file's own description must agree with the catalog: a file swapped for another montage's would
 * otherwise embed recordings decoded for the wrong electrodes without any error.
 */
function checkModelFile(model: NeuralModel, description: ModelDescription): void {
  if (description.montage !== model.montage) {
    throw new NeuralInputError('model_invalid', `${model.file} describes a ${description.montage} model; the catalog lists ${model.id} as ${model.montage}`);
  }
}

/**
 * A catalog model loaded by `load` (a worker of some kind), with the calibration beside its file,
 * once the file's description has been checked against the catalog; closed again on a mismatch.
 */
export async function loadCatalogModel<W extends { readonly description: ModelDescription; close(): Promise<void> }>(
  model: NeuralModel,
  load: (file: string, calibration?: Calibration) => Promise<W>,
): Promise<W> {
  const loaded = await load(model.file, calibrationBeside(model.file));
  try {
    checkModelFile(model, loaded.description);
  } catch (err) {
    await loaded.close();
    throw err;
  }
  return loaded;
}
