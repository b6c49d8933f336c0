// The continuous-verification model behind one worker thread, shared by every stream of a process
// (per model file): start it once, hand it to each ContinuousVerifier.open, close it at shutdown.
import type { Calibration } from '../biometrics/fusion/index.js';
import { reviveNeuralError } from '../biometrics/neural/embedder-worker.js';
import { loadCatalogModel, type NeuralModel } from '../biometrics/neural/model-catalog.js';
import type { ModelDescription } from '../biometrics/neural/model-file.js';
import { ModelWorker } from '../biometrics/worker/model-worker.js';
import type { WindowTiming } from './window-buffer.js';
import type { WindowEmbedding, WindowRequest, WindowServiceSetup } from './window-service.js';

export class ContinuousModel {
  private nextStream = 1;

  private constructor(
    private readonly worker: ModelWorker<WindowRequest, WindowEmbedding[], ModelDescription>,
    /** The model's score → LLR line, when it ships one (v2 models do; v1 models have none and cannot run continuously). */
    readonly calibration?: Calibration,
  ) {}

  /** Starts the thread with the model at `modelPath` and waits until it is loaded. */
  static async load(modelPath: string, calibration?: Calibration): Promise<ContinuousModel> {
    const setup: WindowServiceSetup = { modelPath };
    const worker = await ModelWorker.start<WindowRequest, WindowEmbedding[], ModelDescription>('continuous', new URL('./window-service.js', import.meta.url), setup, reviveNeuralError);
    return new ContinuousModel(worker, calibration);
  }

  /** A catalog model, with the calibration beside its file, once its description matches the catalog. */
  static forModel(model: NeuralModel): Promise<ContinuousModel> {
    return loadCatalogModel(model, (file, calibration) => ContinuousModel.load(file, calibration));
  }

  get description(): ModelDescription {
    return this.worker.info;
  }

  get alive(): boolean {
    return this.worker.alive;
  }

  close(): Promise<void> {
    return this.worker.close();
  }

  /** A new stream's analysis state on the thread; its id. */
  async openStream(sampleRate: number, timing: WindowTiming): Promise<number> {
    const stream = this.nextStream++;
    await this.worker.call({ op: 'open', stream, sampleRate, timing });
    return stream;
  }

  /** Hands a chunk's samples (montage order) to the thread; the windows they complete. */
  push(stream: number, channels: Float32Array[]): Promise<WindowEmbedding[]> {
    return this.worker.call({ op: 'push', stream, channels }, channels.map((c) => c.buffer as ArrayBuffer));
  }

  async closeStream(stream: number): Promise<void> {
    if (this.worker.alive) await this.worker.call({ op: 'close', stream });
  }
}
