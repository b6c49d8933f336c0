// The embedder workers of one process, one per catalog model in use: a server whose accounts hold
// templates of two model versions runs two threads, the older started only when one of its
// templates is verified.
import { WorkerSlot } from '../worker/worker-slot.js';
import { NeuralEmbedderWorker } from './embedder-worker.js';
import type { NeuralModel } from './model-catalog.js';

export class NeuralEmbedders {
  private readonly slots = new Map<string, WorkerSlot<NeuralEmbedderWorker>>();

  /** The model's worker, started on first use (and again if its thread has died). */
  get(model: NeuralModel): Promise<NeuralEmbedderWorker> {
    let slot = this.slots.get(model.id);
    if (!slot) {
      slot = new WorkerSlot(() => NeuralEmbedderWorker.forModel(model));
      this.slots.set(model.id, slot);
    }
    return slot.get();
  }

  async close(): Promise<void> {
    await Promise.all([...this.slots.values()].map((slot) => slot.close()));
  }
}
