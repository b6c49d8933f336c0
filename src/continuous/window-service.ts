// The continuous-verification model as a model-worker service (../biometrics/worker/model-host.ts):
// one thread holds every stream's analysis state and the ONNX session, so the event loop only
// decodes frames and keeps scores. Runs inside the worker thread.
import { NeuralEmbedder } from '../biometrics/neural/embedder.js';
import type { NeuralRejection } from '../biometrics/neural/errors.js';
import { signalConfig, type ModelDescription } from '../biometrics/neural/model-file.js';
import { defaultQualityPolicy } from '../biometrics/neural/quality.js';
import type { ModelService } from '../biometrics/worker/model-host.js';
import { MAX_FRAME_SECONDS } from './stream-protocol.js';
import { StreamAnalysis } from './stream-analysis.js';
import type { WindowTiming } from './window-buffer.js';

export interface WindowServiceSetup {
  readonly modelPath: string;
}

export type WindowRequest =
  | { readonly op: 'open'; readonly stream: number; readonly sampleRate: number; readonly timing: WindowTiming }
  | { readonly op: 'push'; readonly stream: number; readonly channels: Float32Array[] }
  | { readonly op: 'close'; readonly stream: number };

/** One window of a stream: its embedding, or why it was not scored. */
export interface WindowEmbedding {
  readonly endSeconds: number;
  readonly embedding?: Float32Array;
  readonly rejection?: NeuralRejection;
}

/**
 * Feature vectors from the requests handled in one turn of the worker's event loop go through
 * the ONNX session together: one run of 40 windows costs little more than one of a single window.
 */
class ProjectionBatch {
  private queue: { features: Float32Array; resolve: (e: Float32Array) => void; reject: (e: unknown) => void }[] = [];

  constructor(private readonly embedder: NeuralEmbedder) {}

  project(features: Float32Array): Promise<Float32Array> {
    return new Promise((resolve, reject) => {
      if (this.queue.length === 0) setImmediate(() => this.flush());
      this.queue.push({ features, resolve, reject });
    });
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    this.embedder.project(batch.map((b) => b.features)).then(
      (embeddings) => batch.forEach((b, i) => b.resolve(embeddings[i] as Float32Array)),
      (error: unknown) => batch.forEach((b) => b.reject(error)),
    );
  }
}

export async function createService(setup: WindowServiceSetup): Promise<ModelService<WindowRequest, WindowEmbedding[], ModelDescription>> {
  const embedder = await NeuralEmbedder.load(setup.modelPath);
  const description = embedder.description;
  const signal = signalConfig(description);
  const batch = new ProjectionBatch(embedder);
  const streams = new Map<number, StreamAnalysis>();
  return {
    info: description,
    async handle(request) {
      switch (request.op) {
        case 'open':
          if (streams.has(request.stream)) throw new Error(`stream ${request.stream} is already open`);
          streams.set(request.stream, new StreamAnalysis(signal.montage.electrodes, request.sampleRate, signal, description.features, defaultQualityPolicy, request.timing, MAX_FRAME_SECONDS));
          return [];
        case 'close':
          streams.delete(request.stream);
          return [];
        case 'push': {
          const analysis = streams.get(request.stream);
          if (!analysis) throw new Error(`stream ${request.stream} is not open`);
          // The analysis runs now, in arrival order; only the projection waits for the batch.
          const windows = analysis.push(request.channels);
          return Promise.all(
            windows.map(async ({ endSeconds, features, rejection }) => (features === undefined ? { endSeconds, ...(rejection ? { rejection } : {}) } : { endSeconds, embedding: await batch.project(features) })),
          );
        }
      }
    },
  };
}
