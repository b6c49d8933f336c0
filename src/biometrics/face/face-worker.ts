// The face pipeline behind a worker thread, with the same analyse() contract: inference (tens of
// milliseconds per frame) then never blocks the server's event loop.
import { ModelWorker } from '../worker/model-worker.js';
import { FaceError } from './errors.js';
import type { FaceRequest, FaceSetup } from './face-service.js';
import type { FaceAnalysis, FacePipelineOptions } from './pipeline.js';
import type { QualityThresholds } from './quality.js';

export class FaceWorker {
  private constructor(private readonly worker: ModelWorker<FaceRequest, FaceAnalysis>) {}

  /** Starts the worker and waits until its models are loaded. */
  static async create(modelsDir: string, options: Partial<FacePipelineOptions> = {}): Promise<FaceWorker> {
    const setup: FaceSetup = { modelsDir, options };
    const worker = await ModelWorker.start<FaceRequest, FaceAnalysis>('face', new URL('./face-service.js', import.meta.url), setup, (error) =>
      error.name === 'FaceError'
        ? new FaceError(error.fields['reason'] as FaceError['reason'], error.message, error.fields['details'] as FaceError['details'])
        : new Error(error.message),
    );
    return new FaceWorker(worker);
  }

  /** False once the thread has ended (closed, or crashed): it answers nothing any more. */
  get alive(): boolean {
    return this.worker.alive;
  }

  /** Same contract as FacePipeline.analyse; the bytes are copied to the worker. */
  analyse(bytes: Uint8Array, quality?: QualityThresholds): Promise<FaceAnalysis> {
    const copy = new Uint8Array(bytes);
    return this.worker.call({ bytes: copy, quality }, [copy.buffer]);
  }

  close(): Promise<void> {
    return this.worker.close();
  }
}
