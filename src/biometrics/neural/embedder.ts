import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { NeuralInputError, type NeuralRejection } from './errors.js';
import { readModelDescription, signalConfig, type ModelDescription } from './model-file.js';
import type { SignalConfig } from './preprocess.js';
import { defaultQualityPolicy, type QualityPolicy } from './quality.js';
import type { Recording } from './recording.js';
import { meanDirection } from './similarity.js';
import { windowFeatures } from './window-features.js';

// The scoring helpers live apart so callers can score without loading onnxruntime.
export { meanDirection, normalise, score } from './similarity.js';

/** Windows inside one recording overlap by half: more windows to average, same 10 s each. */
const WINDOW_STEP_FRACTION = 0.5;

export interface Embedding {
  /** Unit-length mean of the clean windows' embeddings. */
  vector: Float32Array;
  /** Each clean window's own embedding, in recording order. */
  windows: Float32Array[];
  windowsUsed: number;
  windowsRejected: NeuralRejection[];
}

/**
 * The neural-signal verifier: recording → quality-checked windows → coherence features (TS) →
 * learned projection (ONNX) → unit-length embedding. Templates and probes are embeddings;
 * a probe matches when its cosine with the template reaches the threshold.
 */
export class NeuralEmbedder {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly description: ModelDescription,
    private readonly signal: SignalConfig,
    private readonly policy: QualityPolicy,
  ) {}

  static async load(modelPath: string, policy: QualityPolicy = defaultQualityPolicy): Promise<NeuralEmbedder> {
    const bytes = await readFile(modelPath);
    const description = readModelDescription(bytes);
    const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    return new NeuralEmbedder(session, description, signalConfig(description), policy);
  }

  get threshold(): number {
    return this.description.threshold;
  }

  /** Runs the learned projection on a batch of feature vectors. */
  async project(features: readonly Float32Array[]): Promise<Float32Array[]> {
    const d = this.description.featureLength;
    const batch = new Float32Array(features.length * d);
    features.forEach((f, i) => {
      if (f.length !== d) throw new NeuralInputError('model_invalid', `feature vector has ${f.length} values; the model expects ${d}`);
      batch.set(f, i * d);
    });
    const input = new ort.Tensor('float32', batch, [features.length, d]);
    const output = await this.session.run({ features: input });
    const embedding = output['embedding'];
    if (embedding === undefined) throw new NeuralInputError('model_invalid', 'ONNX model has no "embedding" output');
    const data = embedding.data as Float32Array;
    const k = this.description.embeddingLength;
    return features.map((_, i) => data.slice(i * k, (i + 1) * k));
  }

  /** Embedding of one recording (any length ≥ one window): the mean over its clean windows. */
  async embed(recording: Recording): Promise<Embedding> {
    return this.enroll([recording]);
  }

  /** Enrollment template from one or more recordings: every clean window counts once. */
  async enroll(recordings: readonly Recording[]): Promise<Embedding> {
    if (recordings.length === 0) throw new NeuralInputError('recording_too_short', 'no recording to enroll from');
    const features: Float32Array[] = [];
    const rejected: NeuralRejection[] = [];
    const step = this.signal.windowSeconds * WINDOW_STEP_FRACTION;
    for (const recording of recordings) {
      const result = windowFeatures(recording, this.signal, this.description.features, this.policy, step);
      features.push(...result.features);
      rejected.push(...result.rejected);
    }
    const windows = await this.project(features);
    return { vector: meanDirection(windows), windows, windowsUsed: features.length, windowsRejected: rejected };
  }
}
