import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { MODEL_FILES } from '../../src/biometrics/face/index.js';
import { calibrationBeside, CalibrationError, llrField } from '../../src/biometrics/fusion/index.js';
import { currentNeuralModel, findNeuralModel } from '../../src/biometrics/neural/model-catalog.js';
import { readModelDescription } from '../../src/biometrics/neural/model-file.js';
import { montages, type MontageName } from '../../src/biometrics/neural/montage.js';
import { MODELS_DIR } from '../../src/paths.js';

test('the shipped calibrations are found beside their models, and models fitted before calibration have none', () => {
  const face = calibrationBeside(join(MODELS_DIR, MODEL_FILES.recognition));
  assert.deepEqual([face?.matcher, face?.model, face?.score.direction], ['face', 'face-recognition', 'lower-is-genuine']);
  const eeg = calibrationBeside(findNeuralModel('clinical19-v2')!.file);
  assert.deepEqual([eeg?.matcher, eeg?.model, eeg?.score.direction], ['neural', 'neural-clinical19-v2', 'higher-is-genuine']);
  assert.equal(calibrationBeside(findNeuralModel('clinical19')!.file), undefined);
  // The thresholds' own scores: a face at the 0.38 distance and an EEG cosine at 0.2729 both favour "same person".
  assert.ok(llrField(face, 0.38).llr! > 0 && llrField(face, 1.2).llr! < 0);
  assert.ok(llrField(eeg, 0.2729).llr! > 0 && llrField(eeg, 0).llr! < 0);
});

// A deployment of any montage fuses with its current model: a new model without a calibration fails here.
test('the current EEG model of every montage ships its own calibration', () => {
  for (const montage of Object.keys(montages) as MontageName[]) {
    const model = currentNeuralModel(montage);
    const calibration = calibrationBeside(model.file);
    assert.ok(calibration, `${basename(model.file)} has no calibration beside it: run npm run models:calibrate`);
    assert.deepEqual([calibration.matcher, calibration.model, calibration.score.direction], ['neural', basename(model.file, '.onnx'), 'higher-is-genuine']);
    // Its threshold sits at about 0.1% FAR, so a probe scoring exactly that must favour "same person".
    const { threshold } = readModelDescription(readFileSync(model.file));
    assert.ok(llrField(calibration, threshold).llr! > 0, `${model.id}: LLR ${llrField(calibration, threshold).llr} at its threshold ${threshold}`);
  }
});

test('a calibration beside the wrong model is refused; a non-finite LLR is left out of the audit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-calibration-'));
  copyFileSync(join(MODELS_DIR, 'face-recognition.calibration.json'), join(dir, 'other-model.calibration.json'));
  assert.throws(() => calibrationBeside(join(dir, 'other-model.onnx')), CalibrationError);
  writeFileSync(join(dir, 'broken.calibration.json'), '{"matcher":"face"}');
  assert.throws(() => calibrationBeside(join(dir, 'broken.onnx')), CalibrationError);
  const face = calibrationBeside(join(MODELS_DIR, MODEL_FILES.recognition));
  assert.deepEqual(llrField(face, Number.POSITIVE_INFINITY), {});
  assert.deepEqual(llrField(undefined, 0.3), {});
});
