// One FaceWorker per process, started when first needed (or at start-up when a flow uses the face
// step): the models cost over 100 MB of memory that a process without face sign-ins never pays.
import { FaceWorker, type FaceAnalysis, type QualityThresholds } from '../../biometrics/face/index.js';
import { WorkerSlot } from '../../biometrics/worker/worker-slot.js';

export class FaceAnalyser {
  private readonly worker: WorkerSlot<FaceWorker>;

  constructor(modelsDir: string) {
    this.worker = new WorkerSlot(() => FaceWorker.create(modelsDir));
  }

  /** Loads the models now rather than on the first face submission. */
  async start(): Promise<void> {
    await this.worker.get();
  }

  async analyse(bytes: Uint8Array, quality?: QualityThresholds): Promise<FaceAnalysis> {
    return (await this.worker.get()).analyse(bytes, quality);
  }

  close(): Promise<void> {
    return this.worker.close();
  }
}
