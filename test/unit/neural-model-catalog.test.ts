// The EEG model catalog against the files in models/: ids, montages, current versions, and the
// check of a file's own description when its worker starts; one worker per model in use.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { NeuralEmbedders } from '../../src/biometrics/neural/embedders.js';
import { NeuralEmbedderWorker } from '../../src/biometrics/neural/embedder-worker.js';
import { NeuralInputError } from '../../src/biometrics/neural/errors.js';
import { currentNeuralModel, findNeuralModel, isCurrent, neuralModelFile, neuralModels } from '../../src/biometrics/neural/model-catalog.js';
import { readModelDescription } from '../../src/biometrics/neural/model-file.js';
import { montages } from '../../src/biometrics/neural/montage.js';
import { sliceRecording } from '../../src/biometrics/neural/recording.js';
import { loadEdf, repoPath, sharedEegDir } from '../../scripts/neural/dataset.js';

test('the catalog lists v1 and v2 of each montage; every file exists and describes its montage', () => {
  assert.deepEqual(
    neuralModels.map((m) => [m.id, m.montage, m.version, path.relative(repoPath(), m.file)]),
    [
      ['clinical19', 'clinical19', 1, 'models/neural-clinical19.onnx'],
      ['consumer8', 'consumer8', 1, 'models/neural-consumer8.onnx'],
      ['clinical19-v2', 'clinical19', 2, 'models/neural-clinical19-v2.onnx'],
      ['consumer8-v2', 'consumer8', 2, 'models/neural-consumer8-v2.onnx'],
    ],
  );
  for (const model of neuralModels) {
    assert.ok(existsSync(model.file), `${model.file} is missing`);
    assert.equal(readModelDescription(readFileSync(model.file)).montage, model.montage, model.id);
    // neural_templates.model and neural_submissions.model are varchar(32).
    assert.ok(model.id.length <= 32, model.id);
  }
  assert.equal(neuralModelFile('clinical19', 3), path.join(repoPath(), 'models', 'neural-clinical19-v3.onnx'));
});

test('new enrolments use v2 of each montage; an unknown id is not in the catalog', () => {
  for (const montage of Object.keys(montages) as (keyof typeof montages)[]) {
    const current = currentNeuralModel(montage);
    assert.deepEqual([current.id, current.montage, isCurrent(current)], [`${montage}-v2`, montage, true]);
    assert.equal(isCurrent(findNeuralModel(montage)!), false);
  }
  for (const id of ['clinical19-v9', 'muse-2', '', 'CLINICAL19']) assert.equal(findNeuralModel(id), undefined, id);
});

test("a model file whose description names another montage than the catalog's is refused when its worker starts", async () => {
  const swapped = { ...currentNeuralModel('clinical19'), file: currentNeuralModel('consumer8').file };
  await assert.rejects(
    NeuralEmbedderWorker.forModel(swapped),
    (err: unknown) => err instanceof NeuralInputError && err.code === 'model_invalid' && /describes a consumer8 model; the catalog lists clinical19-v2 as clinical19/.test(err.message),
  );
});

test('one worker per model id: v1 and v2 run side by side with their own files; close ends them all', async () => {
  const embedders = new NeuralEmbedders();
  const v1 = findNeuralModel('clinical19')!;
  const v2 = currentNeuralModel('clinical19');
  const [old, current, again] = await Promise.all([embedders.get(v1), embedders.get(v2), embedders.get(v2)]);
  assert.equal(again, current);
  assert.notEqual(old, current);
  assert.deepEqual([old.description.embeddingLength, current.description.embeddingLength], [384, 512]);
  assert.equal(old.threshold, readModelDescription(readFileSync(v1.file)).threshold);
  const probe = sliceRecording(await loadEdf(path.join(sharedEegDir(), 'Subject21_2.edf')), 0, 10);
  assert.equal((await old.embed(probe)).vector.length, 384);
  await embedders.close();
  assert.deepEqual([old.alive, current.alive], [false, false]);
});
