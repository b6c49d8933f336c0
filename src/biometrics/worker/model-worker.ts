// A model service behind a worker thread. onnxruntime-node runs inference on the calling thread,
// so a model kept here leaves the server's event loop free; each kind of model (face pipeline,
// neural embedder) supplies only its service module (see model-host.ts) and an error reviver.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type Transferable } from 'node:worker_threads';
import type { HostMessage, HostSetup, SerializedError } from './model-host.js';

/** Turns an error sent back by the service into the caller's own error class. */
export type ErrorReviver = (error: SerializedError) => Error;

export class ModelWorker<Request, Reply, Info = undefined> {
  private nextId = 1;
  private exited = false;
  private readonly pending = new Map<number, { resolve: (reply: Reply) => void; reject: (e: Error) => void }>();

  private constructor(
    private readonly worker: Worker,
    /** What the service reported once loaded (e.g. a model's description). */
    readonly info: Info,
    name: string,
    revive: ErrorReviver,
  ) {
    worker.on('message', (message: HostMessage<Reply, Info>) => {
      if (message.kind === 'ready') return;
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if (this.pending.size === 0) worker.unref();
      if (message.ok) waiter.resolve(message.reply);
      else waiter.reject(revive(message.error));
    });
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', (code) => {
      this.exited = true;
      this.failAll(new Error(`${name} worker exited with code ${code}`));
    });
  }

  /**
   * Starts a thread running `service` (a module URL beside the caller, written with its compiled
   * `.js` name) with `setup`, and waits until the service has loaded its models.
   */
  static async start<Request, Reply, Info = undefined>(name: string, service: URL, setup: unknown, revive: ErrorReviver): Promise<ModelWorker<Request, Reply, Info>> {
    const worker = startHost({ service: serviceUrl(service), setup });
    const info = await new Promise<Info>((resolve, reject) => {
      const onMessage = (message: HostMessage<Reply, Info>): void => {
        if (message.kind !== 'ready') return;
        worker.off('message', onMessage);
        worker.off('error', reject);
        worker.off('exit', onExit);
        resolve(message.info);
      };
      const onExit = (code: number) => reject(new Error(`${name} worker exited with code ${code} while starting`));
      worker.on('message', onMessage);
      worker.once('error', reject);
      worker.once('exit', onExit);
    });
    // An idle thread does not keep the process alive (a script or test that ends without close()
    // still exits); it is referenced again while a request is in flight.
    worker.unref();
    return new ModelWorker<Request, Reply, Info>(worker, info, name, revive);
  }

  /** False once the thread has ended (closed, or crashed): it answers nothing any more. */
  get alive(): boolean {
    return !this.exited;
  }

  /** Sends one request; `transfer` lists buffers handed over to the thread (no longer usable here). */
  call(request: Request, transfer: readonly Transferable[] = []): Promise<Reply> {
    if (this.exited) return Promise.reject(new Error('worker has exited'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, request }, [...transfer]);
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

/** Run from TypeScript source (tsx), a service module is its .ts file. */
function serviceUrl(service: URL): string {
  const here = fileURLToPath(import.meta.url);
  return extname(here) === '.js' ? service.href : service.href.replace(/\.js$/, '.ts');
}

/**
 * Compiled, the host is model-host.js beside this file. Run from TypeScript source (tsx), the
 * worker must register tsx's loader itself before importing model-host.ts: loader hooks of the
 * main thread do not reach worker threads on Node 20.
 */
function startHost(setup: HostSetup): Worker {
  const here = fileURLToPath(import.meta.url);
  if (extname(here) === '.js') return new Worker(new URL('./model-host.js', import.meta.url), { workerData: setup });
  const host = new URL('./model-host.ts', import.meta.url).href;
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(host)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: setup });
}
