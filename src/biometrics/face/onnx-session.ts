// One onnxruntime session per model file, tuned for small-batch CPU inference.
import * as ort from 'onnxruntime-node';

export async function openSession(path: string, threads: number): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(path, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // Idle pool threads sleep instead of spinning: on a busy 2-core host, spinning threads steal
    // the cores that the other sessions and requests need.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
}

export async function runSingleOutput(session: ort.InferenceSession, input: Float32Array, dims: readonly number[], output: string): Promise<Float32Array> {
  const result = await session.run({ pixels: new ort.Tensor('float32', input, dims) });
  const tensor = result[output];
  if (!tensor) throw new Error(`model has no output '${output}'`);
  return tensor.data as Float32Array;
}
