// NeuralEmbedder behind a worker thread, with the same embed/enroll contract: a 10-minute
// enrollment recording then does not stall the server's other requests.
import type { Calibration } from '../fusion/index.js';
import type { SerializedError } from '../worker/model-host.js';
import { ModelWorker } from '../worker/model-worker.js';
import type { Embedding } from './embedder.js';
import type { EmbedderSetup } from './embedder-service.js';
import { NeuralInputError, type NeuralRejectionCode, type NeuralRejection } from './errors.js';
import { loadCatalogModel, type NeuralModel } from './model-catalog.js';
import type { ModelDescription } from './model-file.js';
import type { Recording } from './recording.js';

/** A NeuralInputError thrown in a worker thread, as the same class on this one. */
export function reviveNeuralError(error: SerializedError): Error {
  return error.name === 'NeuralInputError'
    ? new NeuralInputError(error.fields['code'] as NeuralRejectionCode, error.message, error.fields['rejections'] as NeuralRejection[])
    : new Error(error.message);
}

export class NeuralEmbedderWorker {
  private constructor(
    private readonly worker: ModelWorker<Recording[], Embedding, ModelDescription>,
    /** How this model's scores map to log-likelihood ratios, when it ships a calibration. */
    readonly calibration?: Calibration,
  ) {}

  /** Starts the thread and waits until the model is loaded and its description validated. */
  static async load(modelPath: string, calibration?: Calibration): Promise<NeuralEmbedderWorker> {
    const setup: EmbedderSetup = { modelPath };
    const worker = await ModelWorker.start<Recording[], Embedding, ModelDescription>('neural', new URL('./embedder-service.js', import.meta.url), setup, reviveNeuralError);
    return new NeuralEmbedderWorker(worker, calibration);
  }

  /**
   * A catalog model's worker, with the calibration beside its file, once the file's description
   * has been checked against the catalog.
   */
  static forModel(model: NeuralModel): Promise<NeuralEmbedderWorker> {
    return loadCatalogModel(model, (file, calibration) => NeuralEmbedderWorker.load(file, calibration));
  }

  get description(): ModelDescription {
    return this.worker.info;
  }

  get threshold(): number {
    return this.worker.info.threshold;
  }

  get alive(): boolean {
    return this.worker.alive;
  }

  embed(recording: Recording): Promise<Embedding> {
    return this.enroll([recording]);
  }

  /** Same result as NeuralEmbedder.enroll; the samples are copied to the thread. */
  enroll(recordings: readonly Recording[]): Promise<Embedding> {
    const copies = recordings.map((r) => ({ sampleRate: r.sampleRate, channels: r.channels.map((c) => ({ label: c.label, samples: new Float32Array(c.samples) })) }));
    return this.worker.call(copies, copies.flatMap((r) => r.channels.map((c) => c.samples.buffer)));
  }

  close(): Promise<void> {
    return this.worker.close();
  }
}
