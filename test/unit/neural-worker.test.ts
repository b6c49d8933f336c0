// The neural embedder behind a worker thread: the same embeddings, typed refusals, a free event loop.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { NeuralEmbedder } from '../../src/biometrics/neural/embedder.js';
import { NeuralEmbedderWorker } from '../../src/biometrics/neural/embedder-worker.js';
import { NeuralInputError } from '../../src/biometrics/neural/errors.js';
import { montages } from '../../src/biometrics/neural/montage.js';
import { sliceRecording, type Recording } from '../../src/biometrics/neural/recording.js';
import { loadEdf, repoPath, sharedEegDir } from '../../scripts/neural/dataset.js';
import { WorkerSlot } from '../../src/biometrics/worker/worker-slot.js';
import { syntheticRecording } from './neural-fixtures.js';

const model = repoPath('models', 'neural-clinical19.onnx');
let worker: NeuralEmbedderWorker;
let local: NeuralEmbedder;
let rest: Recording;

before(async () => {
  [worker, local, rest] = await Promise.all([NeuralEmbedderWorker.load(model), NeuralEmbedder.load(model), loadEdf(path.join(sharedEegDir(), 'Subject21_1.edf'))]);
});

after(() => worker.close());

test('the worker enrolls and embeds exactly as the in-process embedder', async () => {
  assert.deepEqual(worker.description, local.description);
  assert.equal(worker.threshold, local.threshold);
  const recordings = [sliceRecording(rest, 0, 40), sliceRecording(rest, 60, 30)];
  const [remote, here] = await Promise.all([worker.enroll(recordings), local.enroll(recordings)]);
  assert.ok(remote.vector instanceof Float32Array);
  assert.deepEqual(remote, here);
  // The caller's samples were copied, not handed over.
  assert.equal(recordings[0]!.channels[0]!.samples.length, 40 * rest.sampleRate);
});

test('refusals arrive as NeuralInputError with their code', async () => {
  await assert.rejects(worker.embed(syntheticRecording(montages.clinical19.electrodes, 256, 8)), (err: unknown) => err instanceof NeuralInputError && err.code === 'recording_too_short');
  await assert.rejects(worker.embed(syntheticRecording(montages.consumer8.electrodes, 256, 12)), (err: unknown) => err instanceof NeuralInputError && err.code === 'channels_missing' && err.rejections.length > 0);
});

test('the event loop keeps running while a long recording is embedded', async () => {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 2);
  const started = performance.now();
  await worker.embed(sliceRecording(rest, 0, 180));
  const elapsed = performance.now() - started;
  clearInterval(timer);
  // Run on this thread, the 3-minute recording blocks the loop for its whole duration (one tick).
  assert.ok(ticks >= elapsed / 2 / 4, `${ticks} timer ticks in ${elapsed.toFixed(0)} ms`);
});

test('a worker slot starts once, replaces a thread that has ended and does not cache a failed start', async () => {
  const slot = new WorkerSlot(() => NeuralEmbedderWorker.load(model));
  const first = await slot.get();
  assert.equal(await slot.get(), first);
  await first.close();
  assert.equal(first.alive, false);
  await assert.rejects(first.embed(sliceRecording(rest, 0, 10)), /exited/);
  const second = await slot.get();
  assert.notEqual(second, first);
  assert.equal((await second.embed(sliceRecording(rest, 0, 10))).windowsUsed, 1);
  await slot.close();
  assert.equal(second.alive, false);

  let starts = 0;
  const broken = new WorkerSlot(() => {
    starts++;
    return NeuralEmbedderWorker.load(path.join(path.dirname(model), 'no-such-model.onnx'));
  });
  await assert.rejects(broken.get());
  await assert.rejects(broken.get());
  assert.equal(starts, 2);
});
