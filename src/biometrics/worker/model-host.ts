// Runs inside a worker thread started by ModelWorker: loads one service module and answers its
// requests in order of arrival.
import { parentPort, workerData } from 'node:worker_threads';

/** What a service module exports as `createService`. */
export interface ModelService<Request, Reply, Info = undefined> {
  /** Sent to the starting thread once the models are loaded. */
  readonly info: Info;
  /** Replies are small (embeddings, landmarks) and are copied back. */
  handle(request: Request): Promise<Reply>;
}

export interface HostSetup {
  readonly service: string;
  readonly setup: unknown;
}

/** An error as it crosses threads: its class name, message and own fields (e.g. a reason code). */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

export type HostMessage<Reply, Info> =
  | { readonly kind: 'ready'; readonly info: Info }
  | { readonly kind: 'reply'; readonly id: number; readonly ok: true; readonly reply: Reply }
  | { readonly kind: 'reply'; readonly id: number; readonly ok: false; readonly error: SerializedError };

function serialize(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error), fields: {} };
  return { name: error.name, message: error.message, fields: { ...error } };
}

const port = parentPort;
if (!port) throw new Error('model-host must run in a worker thread');
const { service: serviceModule, setup } = workerData as HostSetup;
const { createService } = (await import(serviceModule)) as { createService: (setup: unknown) => Promise<ModelService<unknown, unknown, unknown>> };
const service = await createService(setup);
port.on('message', ({ id, request }: { id: number; request: unknown }) => {
  service.handle(request).then(
    (reply) => port.postMessage({ kind: 'reply', id, ok: true, reply } satisfies HostMessage<unknown, unknown>),
    (error: unknown) => port.postMessage({ kind: 'reply', id, ok: false, error: serialize(error) } satisfies HostMessage<unknown, unknown>),
  );
});
port.postMessage({ kind: 'ready', info: service.info } satisfies HostMessage<unknown, unknown>);
