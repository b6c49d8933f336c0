// One FaceWorker per process, started when first needed (or at start-up when a flow uses the face
// step): the models cost about 150 MB of memory that a process without face sign-ins never pays.
import { FaceWorker, type FaceAnalysis, type QualityThresholds } from '../../biometrics/face/index.js';

export class FaceAnalyser {
  private worker: Promise<FaceWorker> | undefined;

  constructor(private readonly modelsDir: string) {}

  /** Loads the models now rather than on the first face submission. */
  async start(): Promise<void> {
    await this.started();
  }

  async analyse(bytes: Uint8Array, quality?: QualityThresholds): Promise<FaceAnalysis> {
    return (await this.started()).analyse(bytes, quality);
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await (await worker?.catch(() => undefined))?.close();
  }

  private async started(): Promise<FaceWorker> {
    // A thread that has died (out of memory, say) is replaced; a failed start is not cached.
    const current = await this.worker?.catch(() => undefined);
    if (current && !current.alive) this.worker = undefined;
    this.worker ??= FaceWorker.create(this.modelsDir).catch((error: unknown) => {
      this.worker = undefined;
      throw error;
    });
    return this.worker;
  }
}
