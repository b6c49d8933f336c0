import onnxProto from 'onnx-proto';
import { NeuralInputError } from './errors.js';
import type { FeatureConfig } from './features.js';
import { montageByName } from './montage.js';
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

export function signalConfig(description: ModelDescription): SignalConfig {
  return {
    montage: montageByName(description.montage),
    analysisRate: description.analysisRate,
    highpassHz: description.highpassHz,
    lowpassHz: description.lowpassHz,
    windowSeconds: description.windowSeconds,
  };
}

/** Reads the pipeline description from an ONNX model's metadata_props. */
export function readModelDescription(modelBytes: Uint8Array): ModelDescription {
  const model = onnx.ModelProto.decode(modelBytes);
  const entry = model.metadataProps.find((p) => p.key === MODEL_METADATA_KEY);
  if (entry?.value == null) {
    throw new NeuralInputError('model_invalid', `ONNX model has no "${MODEL_METADATA_KEY}" metadata`);
  }
  return JSON.parse(entry.value) as ModelDescription;
}
