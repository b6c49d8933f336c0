import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseEdf } from '../../src/biometrics/neural/edf.js';
import { NeuralInputError, type NeuralRejectionCode } from '../../src/biometrics/neural/errors.js';
import { decodeRecording, edfToRecording } from '../../src/biometrics/neural/ingest.js';
import { defaultIngestLimits } from '../../src/biometrics/neural/recording.js';
import { sharedEegDir } from '../../scripts/neural/dataset.js';
import { buildEdf, type EdfSpec } from './neural-fixtures.js';

function rejects(code: NeuralRejectionCode, run: () => unknown): void {
  assert.throws(run, (err: unknown) => {
    assert.ok(err instanceof NeuralInputError, `expected NeuralInputError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.ok(err.message.length > 10);
    return true;
  });
}

const twoChannels = (records = 2): EdfSpec => ({
  records,
  signals: [
    { label: 'EEG Fp1', samplesPerRecord: 4, digital: (i) => i * 10 },
    { label: 'EEG Fp2-REF', samplesPerRecord: 4, digital: (i) => -i * 10 },
    { label: 'EDF Annotations', samplesPerRecord: 8, digital: () => 0 },
  ],
});

describe('EDF parser', () => {
  it('reads header fields, skips the annotations signal and scales digital to physical', () => {
    const edf = parseEdf(buildEdf(twoChannels()));
    assert.equal(edf.variant, 'EDF+C');
    assert.equal(edf.recordCount, 2);
    assert.equal(edf.recordDurationSeconds, 1);
    assert.deepEqual(edf.signals.map((s) => s.label), ['EEG Fp1', 'EEG Fp2-REF']);
    const fp1 = edf.signals[0]!;
    assert.equal(fp1.sampleRate, 4);
    // physical = pMin + (d - dMin) * (pMax - pMin) / (dMax - dMin) = 0.1 µV per digital unit here
    assert.deepEqual([...fp1.samples].map((v) => Number(v.toFixed(3))), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(Number(edf.signals[1]!.samples[3]!.toFixed(3)), -3);
  });

  it('applies an asymmetric calibration and converts millivolts to microvolts', () => {
    const bytes = buildEdf({
      records: 1,
      signals: [{ label: 'Cz', samplesPerRecord: 2, physicalMin: -1, physicalMax: 1, digitalMin: 0, digitalMax: 1000, dimension: 'mV', digital: (i) => [0, 750][i]! }],
    });
    const recording = edfToRecording(parseEdf(bytes));
    assert.deepEqual([...recording.channels[0]!.samples], [-1000, 500]);
  });

  it('accepts plain EDF and an unknown (-1) record count inferred from the size', () => {
    const spec = { ...twoChannels(3), reserved: '', declaredRecords: -1 };
    const edf = parseEdf(buildEdf(spec));
    assert.equal(edf.variant, 'EDF');
    assert.equal(edf.recordCount, 3);
  });

  it('rejects what is not EDF', () => {
    rejects('edf_not_edf', () => parseEdf(new TextEncoder().encode('hello')));
    rejects('edf_not_edf', () => parseEdf(new Uint8Array(300).fill(0xff)));
  });

  it('rejects malformed headers with the field named', () => {
    const good = buildEdf(twoChannels());
    const corrupt = (offset: number, text: string): Uint8Array => {
      const copy = good.slice();
      copy.set(new TextEncoder().encode(text), offset);
      return copy;
    };
    rejects('edf_header_malformed', () => parseEdf(corrupt(184, '999     '))); // header bytes
    rejects('edf_header_malformed', () => parseEdf(corrupt(236, 'abc     '))); // record count
    rejects('edf_header_malformed', () => parseEdf(corrupt(244, '0       '))); // record duration
    rejects('edf_header_malformed', () => parseEdf(corrupt(252, '0   '))); // signal count
    // digital maximum of signal 0: 256 + 3*(16+80+8+8+8+8) = 640
    rejects('edf_header_malformed', () => parseEdf(corrupt(256 + 3 * 128, '-40000  ')));
    const binary = good.slice();
    binary[20] = 0x00;
    rejects('edf_header_malformed', () => parseEdf(binary));
    rejects('edf_unsupported', () => parseEdf(buildEdf({ ...twoChannels(), reserved: 'EDF+D' })));
  });

  it('rejects truncated files and trailing bytes', () => {
    const good = buildEdf(twoChannels());
    rejects('edf_truncated', () => parseEdf(good.subarray(0, good.length - 1)));
    rejects('edf_truncated', () => parseEdf(good.subarray(0, 600)));
    const longer = new Uint8Array(good.length + 6);
    longer.set(good);
    rejects('edf_size_mismatch', () => parseEdf(longer));
  });

  it('enforces the size and duration limits before decoding', () => {
    const good = buildEdf(twoChannels());
    rejects('recording_too_large', () => parseEdf(good, { ...defaultIngestLimits, maxBytes: 100 }));
    // A 2-hour recording is refused from its header alone.
    const twoHours = buildEdf({ ...twoChannels(1), declaredRecords: 7200 });
    rejects('recording_too_long', () => parseEdf(twoHours));
  });

  it('refuses EEG channels with different sample rates and files without electrodes', () => {
    const mixed = buildEdf({
      records: 1,
      signals: [
        { label: 'C3', samplesPerRecord: 4, digital: () => 0 },
        { label: 'C4', samplesPerRecord: 8, digital: () => 0 },
      ],
    });
    rejects('sample_rate_mixed', () => edfToRecording(parseEdf(mixed)));
    const ecgOnly = buildEdf({ records: 1, signals: [{ label: 'ECG ECG', samplesPerRecord: 4, dimension: 'mV', digital: () => 0 }] });
    rejects('channels_missing', () => edfToRecording(parseEdf(ecgOnly)));
  });

  it('sniffs the upload format', () => {
    const recording = decodeRecording(buildEdf(twoChannels()));
    assert.deepEqual(recording.channels.map((c) => c.label), ['EEG Fp1', 'EEG Fp2-REF']);
    rejects('edf_not_edf', () => decodeRecording(new TextEncoder().encode('PK\u0003\u0004 not an edf at all, a zip perhaps'.padEnd(300))));
  });

  it('reads a real eegmat recording (shared data)', () => {
    const file = path.join(sharedEegDir(), 'Subject00_2.edf');
    assert.ok(existsSync(file), `${file} is missing`);
    const edf = parseEdf(readFileSync(file));
    assert.equal(edf.signals.length, 21);
    assert.ok(edf.signals.every((s) => s.sampleRate === 500));
    const recording = edfToRecording(edf);
    // 19 scalp electrodes; "EEG A2-A1" (bipolar) and ECG are not electrodes.
    assert.equal(recording.channels.length, 19);
    assert.equal(recording.channels[0]!.samples.length, 62 * 500);
    const fp1 = recording.channels[0]!.samples;
    assert.ok(fp1.every((v) => v >= edf.signals[0]!.physicalMin - 1e-3 && v <= edf.signals[0]!.physicalMax + 1e-3));
  });
});
