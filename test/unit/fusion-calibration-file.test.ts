import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MODEL_FILES } from '../../src/biometrics/face/index.js';
import { calibrationBeside, CalibrationError, llrField } from '../../src/biometrics/fusion/index.js';
import { findNeuralModel } from '../../src/biometrics/neural/model-catalog.js';
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
