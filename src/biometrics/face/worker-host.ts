// Runs inside a worker thread: owns one FacePipeline and answers analyse requests.
// onnxruntime-node runs inference on the calling thread, so the server keeps its event loop free
// by keeping the models here.
import { parentPort, workerData } from 'node:worker_threads';
import { FaceError } from './errors.js';
import { FacePipeline, type FacePipelineOptions } from './pipeline.js';
import type { QualityThresholds } from './quality.js';

export interface WorkerRequest {
  readonly id: number;
  readonly bytes: Uint8Array;
  readonly quality?: QualityThresholds;
}

export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly analysis: Awaited<ReturnType<FacePipeline['analyse']>> }
  | { readonly id: number; readonly ok: false; readonly error: { readonly reason?: FaceError['reason']; readonly message: string; readonly details?: FaceError['details'] } };

export interface WorkerSetup {
  readonly modelsDir: string;
  readonly options: Partial<FacePipelineOptions>;
}

const port = parentPort;
if (!port) throw new Error('worker-host must run in a worker thread');
const setup = workerData as WorkerSetup;
const pipeline = await FacePipeline.create(setup.modelsDir, setup.options);
port.on('message', (request: WorkerRequest) => {
  pipeline.analyse(request.bytes, request.quality).then(
    (analysis) => port.postMessage({ id: request.id, ok: true, analysis } satisfies WorkerReply),
    (error: unknown) => {
      const reply: WorkerReply = error instanceof FaceError
        ? { id: request.id, ok: false, error: { reason: error.reason, message: error.message, details: error.details } }
        : { id: request.id, ok: false, error: { message: error instanceof Error ? error.message : String(error) } };
      port.postMessage(reply);
    },
  );
});
port.postMessage('ready');
