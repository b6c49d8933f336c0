import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NeuralInputError } from '../../src/biometrics/neural/errors.js';
import { decodeRecording } from '../../src/biometrics/neural/ingest.js';
import { electrodeName, montages, selectMontage } from '../../src/biometrics/neural/montage.js';
import { defaultIngestLimits } from '../../src/biometrics/neural/recording.js';
import { encodeBinarySamples, parseBinarySamples, parseJsonSamples } from '../../src/biometrics/neural/samples-format.js';
import { syntheticRecording } from './neural-fixtures.js';

const code = (run: () => unknown): string => {
  try {
    run();
  } catch (err) {
    if (err instanceof NeuralInputError) return err.code;
    throw err;
  }
  return 'accepted';
};

describe('device samples formats', () => {
  const json = (body: unknown): string => JSON.stringify(body);

  it('parses channel-major JSON samples', () => {
    const r = parseJsonSamples(json({ sampleRate: 256, channels: ['Fp1', 'Fp2'], samples: [[1, 2, 3], [4, 5, 6]] }));
    assert.equal(r.sampleRate, 256);
    assert.deepEqual(r.channels.map((c) => [c.label, [...c.samples]]), [['Fp1', [1, 2, 3]], ['Fp2', [4, 5, 6]]]);
  });

  it('rejects NaN, Infinity and non-numbers in JSON', () => {
    assert.equal(code(() => parseJsonSamples('{"sampleRate":256,"channels":["C3"],"samples":[[1,1e999,2]]}')), 'samples_nonfinite');
    assert.equal(code(() => parseJsonSamples(json({ sampleRate: 256, channels: ['C3'], samples: [[1, null, 2]] }))), 'samples_nonfinite');
    assert.equal(code(() => parseJsonSamples(json({ sampleRate: 256, channels: ['C3'], samples: [[1, 'NaN', 2]] }))), 'samples_nonfinite');
    assert.equal(code(() => parseJsonSamples('{"sampleRate":256,"channels":["C3"],"samples":[[1e300]]}')), 'samples_nonfinite');
  });

  it('rejects malformed JSON shapes and over-long recordings', () => {
    assert.equal(code(() => parseJsonSamples('{"sampleRate":')), 'samples_malformed');
    assert.equal(code(() => parseJsonSamples(json({ sampleRate: 0, channels: ['C3'], samples: [[1]] }))), 'samples_malformed');
    assert.equal(code(() => parseJsonSamples(json({ sampleRate: 256, channels: ['C3', 'C4'], samples: [[1]] }))), 'samples_malformed');
    assert.equal(code(() => parseJsonSamples(json({ sampleRate: 256, channels: ['C3', 'C4'], samples: [[1, 2], [1]] }))), 'samples_malformed');
    assert.equal(code(() => parseJsonSamples(json({ sampleRate: 1, channels: ['C3'], samples: [new Array(601).fill(0)] }))), 'recording_too_long');
    assert.equal(code(() => parseJsonSamples(json({ sampleRate: 1, channels: ['C3'], samples: [[0]] }), { ...defaultIngestLimits, maxBytes: 10 })), 'recording_too_large');
  });

  it('round-trips the binary format and rejects wrong sizes and non-finite values', () => {
    const recording = syntheticRecording(['Fp1', 'EEG Fp2', 'O1'], 128, 2);
    const bytes = encodeBinarySamples(recording);
    const back = parseBinarySamples(bytes);
    assert.equal(back.sampleRate, 128);
    assert.deepEqual(back.channels.map((c) => c.label), ['Fp1', 'EEG Fp2', 'O1']);
    assert.deepEqual([...back.channels[2]!.samples], [...recording.channels[2]!.samples]);
    assert.equal(decodeRecording(bytes).channels.length, 3);
    assert.equal(code(() => parseBinarySamples(bytes.subarray(0, bytes.length - 4))), 'samples_malformed');
    const nan = bytes.slice();
    new DataView(nan.buffer).setFloat32(16 + 3 * 16 + 8, Number.NaN, true);
    assert.equal(code(() => parseBinarySamples(nan)), 'samples_nonfinite');
  });

  it('sniffs JSON uploads', () => {
    const bytes = new TextEncoder().encode(`  ${json({ sampleRate: 200, channels: ['Cz'], samples: [[0, 1]] })}`);
    assert.equal(decodeRecording(bytes).sampleRate, 200);
  });
});

describe('10-20 channel mapping', () => {
  it('normalises the label spellings recorders use', () => {
    for (const label of ['Fp1', 'EEG Fp1', 'Fp1.', 'FP1', 'fp1', 'EEG Fp1-REF', ' EEG FP1-LE ', 'Fp1-AVG']) {
      assert.equal(electrodeName(label), 'Fp1', label);
    }
    assert.equal(electrodeName('T7'), 'T3');
    assert.equal(electrodeName('EEG P8-REF'), 'T6');
    assert.equal(electrodeName('Cz..'), 'Cz');
  });

  it('does not mistake non-electrode signals for electrodes', () => {
    for (const label of ['EEG A2-A1', 'ECG ECG', 'EDF Annotations', 'EOG', 'Fp1-F3', 'X1']) {
      assert.equal(electrodeName(label), null, label);
    }
  });

  it('selects and orders a montage subset, naming what is missing', () => {
    const full = syntheticRecording([...montages.clinical19.electrodes].reverse().map((e) => `EEG ${e}-REF`), 128, 1);
    const consumer = selectMontage(full, montages.consumer8);
    assert.deepEqual(consumer.channels.map((c) => c.label), montages.consumer8.electrodes);
    const partial = syntheticRecording(['Fp1', 'Fp2', 'C3'], 128, 1);
    assert.throws(() => selectMontage(partial, montages.consumer8), (err: unknown) => {
      assert.ok(err instanceof NeuralInputError);
      assert.equal(err.code, 'channels_missing');
      assert.match(err.message, /C4, T5, T6, O1, O2/);
      assert.equal(err.rejections.length, 5);
      return true;
    });
    const duplicated = syntheticRecording(['Fp1', 'FP1.', 'Fp2', 'C3', 'C4', 'T5', 'T6', 'O1', 'O2'], 128, 1);
    assert.equal(code(() => selectMontage(duplicated, montages.consumer8)), 'channels_ambiguous');
  });
});
