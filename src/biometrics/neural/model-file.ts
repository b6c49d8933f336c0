import onnxProto from 'onnx-proto';
import { z } from 'zod';
import { NeuralInputError } from './errors.js';
import type { FeatureConfig } from './features.js';
import { montageByName, montages } from './montage.js';
import type { SignalConfig } from './preprocess.js';

const { onnx } = onnxProto;

/** Metadata key under which a neural model carries everything needed to reproduce its inputs. */
export const MODEL_METADATA_KEY = 'tessera.neural';

/** Serialisable description of a model's pipeline, stored inside the .onnx file. */
export interface ModelDescription {
  montage: string;
  analysisRate: number;
  highpassHz: number;
  lowpassHz: number;
  windowSeconds: number;
  features: FeatureConfig;
  featureLength: number;
  embeddingLength: number;
  /** Cosine score at or above which a probe is accepted (calibrated on validation subjects). */
  threshold: number;
}

const positive = z.number().positive();
const descriptionSchema = z.object({
  montage: z.string(),
  analysisRate: positive,
  highpassHz: positive,
  lowpassHz: positive,
  windowSeconds: positive,
  features: z.object({
    segmentSeconds: positive,
    bands: z.array(z.object({ name: z.string(), lowHz: positive, highHz: positive })).min(1),
    spectrum: z.object({ segmentSeconds: positive, lowHz: positive, highHz: positive }).nullable(),
  }),
  featureLength: z.number().int().positive(),
  embeddingLength: z.number().int().positive(),
  threshold: z.number().min(-1).max(1),
});

export function signalConfig(description: ModelDescription): SignalConfig {
  return {
    montage: montageByName(description.montage),
    analysisRate: description.analysisRate,
    highpassHz: description.highpassHz,
    lowpassHz: description.lowpassHz,
    windowSeconds: description.windowSeconds,
  };
}

/** Reads and validates the pipeline description from an ONNX model's metadata_props. */
export function readModelDescription(modelBytes: Uint8Array): ModelDescription {
  let entry: { value?: string | null } | undefined;
  try {
    entry = onnx.ModelProto.decode(modelBytes).metadataProps.find((p) => p.key === MODEL_METADATA_KEY);
  } catch (err) {
    throw new NeuralInputError('model_invalid', `not an ONNX model: ${(err as Error).message}`);
  }
  if (entry?.value == null) {
    throw new NeuralInputError('model_invalid', `ONNX model has no "${MODEL_METADATA_KEY}" metadata`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(entry.value);
  } catch {
    throw new NeuralInputError('model_invalid', `"${MODEL_METADATA_KEY}" metadata is not JSON`);
  }
  const result = descriptionSchema.safeParse(parsed);
  if (!result.success) {
    throw new NeuralInputError('model_invalid', `"${MODEL_METADATA_KEY}" metadata is invalid: ${result.error.message}`);
  }
  if (!Object.hasOwn(montages, result.data.montage)) {
    throw new NeuralInputError('model_invalid', `model is for unknown montage "${result.data.montage}"`);
  }
  return result.data;
}
