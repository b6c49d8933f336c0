// The face pipeline behind a worker thread, with the same analyse() contract: inference (tens of
// milliseconds per frame) then never blocks the server's event loop.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { FaceError } from './errors.js';
import type { FaceAnalysis, FacePipelineOptions } from './pipeline.js';
import type { QualityThresholds } from './quality.js';
import type { WorkerReply, WorkerRequest, WorkerSetup } from './worker-host.js';

export class FaceWorker {
  private nextId = 1;
  private exited = false;
  private readonly pending = new Map<number, { resolve: (a: FaceAnalysis) => void; reject: (e: Error) => void }>();

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: WorkerReply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.analysis);
      else if (reply.error.reason) waiter.reject(new FaceError(reply.error.reason, reply.error.message, reply.error.details));
      else waiter.reject(new Error(reply.error.message));
    });
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', (code) => {
      this.exited = true;
      this.failAll(new Error(`face worker exited with code ${code}`));
    });
  }

  /** False once the thread has ended (closed, or crashed): it answers nothing any more. */
  get alive(): boolean {
    return !this.exited;
  }

  /** Starts the worker and waits until its models are loaded. */
  static async create(modelsDir: string, options: Partial<FacePipelineOptions> = {}): Promise<FaceWorker> {
    const worker = startHost({ modelsDir, options });
    await new Promise<void>((resolve, reject) => {
      const onMessage = (message: unknown): void => {
        if (message !== 'ready') return;
        worker.off('message', onMessage);
        worker.off('error', reject);
        resolve();
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
    return new FaceWorker(worker);
  }

  /** Same contract as FacePipeline.analyse; the bytes are copied to the worker. */
  analyse(bytes: Uint8Array, quality?: QualityThresholds): Promise<FaceAnalysis> {
    if (this.exited) return Promise.reject(new Error('face worker has exited'));
    const id = this.nextId++;
    const copy = new Uint8Array(bytes);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, bytes: copy, quality } satisfies WorkerRequest, [copy.buffer]);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private failAll(error: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}

/**
 * Compiled, the host is worker-host.js beside this file. Run from TypeScript source (tsx), the
 * worker must register tsx's loader itself before importing worker-host.ts: loader hooks of the
 * main thread do not reach worker threads on Node 20.
 */
function startHost(setup: WorkerSetup): Worker {
  const here = fileURLToPath(import.meta.url);
  if (extname(here) === '.js') return new Worker(new URL('./worker-host.js', import.meta.url), { workerData: setup });
  const host = new URL('./worker-host.ts', import.meta.url).href;
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(host)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: setup });
}
