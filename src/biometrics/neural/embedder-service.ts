// The neural embedder as a model-worker service (see ../worker/model-host.ts): feature extraction
// and the ONNX projection of a long enrollment recording take up to a second of CPU.
import type { ModelService } from '../worker/model-host.js';
import { NeuralEmbedder, type Embedding } from './embedder.js';
import type { ModelDescription } from './model-file.js';
import type { Recording } from './recording.js';

export interface EmbedderSetup {
  readonly modelPath: string;
}

export async function createService(setup: EmbedderSetup): Promise<ModelService<Recording[], Embedding, ModelDescription>> {
  const embedder = await NeuralEmbedder.load(setup.modelPath);
  return { info: embedder.description, handle: (recordings) => embedder.enroll(recordings) };
}
