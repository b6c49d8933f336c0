// The face pipeline behind a worker thread: same results, typed errors, a free event loop.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { FaceError, FaceWorker, type FacePipeline } from '../../src/biometrics/face/index.js';
import { assertModelsBuilt, identityImages, MODELS_DIR, sharedPipeline } from './face-support.js';

let worker: FaceWorker;
let pipeline: FacePipeline;
let portrait: Buffer;

before(async () => {
  assertModelsBuilt();
  [worker, pipeline] = await Promise.all([FaceWorker.create(MODELS_DIR), sharedPipeline()]);
  const [person] = await identityImages('faces-lfw-dev', 1, 1);
  portrait = await readFile(person!.files[0]!);
});

after(() => worker.close());

test('the worker returns what the in-process pipeline returns', async () => {
  const [remote, local] = await Promise.all([worker.analyse(portrait), pipeline.analyse(portrait)]);
  assert.ok(remote.embedding instanceof Float32Array);
  assert.deepEqual(remote.embedding, local.embedding);
  assert.deepEqual(remote.landmarks, local.landmarks);
});

test('refusals arrive as FaceError with their reason', async () => {
  await assert.rejects(worker.analyse(Buffer.from('not an image')), (e: unknown) => e instanceof FaceError && e.reason === 'not_an_image');
});

test('the event loop keeps running while the worker analyses', async () => {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 2);
  const started = performance.now();
  for (let i = 0; i < 3; i++) await worker.analyse(portrait);
  const elapsed = performance.now() - started;
  clearInterval(timer);
  // A blocked loop would tick about once per analyse; a free one about every 2 ms.
  assert.ok(ticks >= elapsed / 2 / 4, `${ticks} timer ticks in ${elapsed.toFixed(0)} ms`);
});

test('a worker that has ended says so and refuses at once instead of hanging', async () => {
  const short = await FaceWorker.create(MODELS_DIR);
  assert.equal(short.alive, true);
  await short.close();
  assert.equal(short.alive, false);
  await assert.rejects(short.analyse(portrait), /exited/);
});
