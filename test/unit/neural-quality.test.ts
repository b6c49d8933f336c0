import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NeuralInputError, type NeuralRejectionCode } from '../../src/biometrics/neural/errors.js';
import { montages } from '../../src/biometrics/neural/montage.js';
import { prepare, windows, type SignalConfig } from '../../src/biometrics/neural/preprocess.js';
import { defaultQualityPolicy as policy } from '../../src/biometrics/neural/quality.js';
import type { Recording } from '../../src/biometrics/neural/recording.js';
import { seededRandom } from '../../scripts/seeded-random.js';
import { syntheticRecording } from './neural-fixtures.js';

const config: SignalConfig = { montage: montages.consumer8, analysisRate: 128, highpassHz: 1, lowpassHz: 40, windowSeconds: 10 };
const labels = montages.consumer8.electrodes;

function rejection(recording: Recording): { code: NeuralRejectionCode; channels: (string | undefined)[]; message: string } {
  try {
    prepare(recording, config, policy);
  } catch (err) {
    assert.ok(err instanceof NeuralInputError, String(err));
    return { code: err.code, channels: err.rejections.map((r) => r.channel), message: err.message };
  }
  assert.fail('the recording was accepted');
}

function withChannel(recording: Recording, label: string, f: (i: number, v: number) => number): Recording {
  return {
    ...recording,
    channels: recording.channels.map((c) => (c.label === label ? { label, samples: c.samples.map((v, i) => f(i, v)) } : c)),
  };
}

describe('signal quality', () => {
  const clean = syntheticRecording(labels, 250, 30);

  it('accepts clean EEG and cuts it into 10 s windows at the analysis rate', () => {
    const prepared = prepare(clean, config, policy);
    assert.equal(prepared.sampleRate, 128);
    assert.equal(prepared.channels[0]!.length, 30 * 128);
    const w = windows(prepared, 10, 5, policy);
    assert.deepEqual(w.map((x) => x.startSeconds), [0, 5, 10, 15, 20]);
    assert.ok(w.every((x) => x.rejection === null && x.channels[0]!.length === 1280));
  });

  it('checks duration and sample rate', () => {
    assert.equal(rejection(syntheticRecording(labels, 250, 9)).code, 'recording_too_short');
    assert.equal(rejection(syntheticRecording(labels, 100, 12)).code, 'sample_rate_unsupported');
    assert.equal(rejection({ ...syntheticRecording(labels, 128, 1), sampleRate: 0.1 }).code, 'sample_rate_unsupported');
    // In range, but no small rational factor to 128 Hz: refused, not a crash in the resampler.
    assert.equal(rejection(syntheticRecording(labels, 257.123, 12)).code, 'sample_rate_unsupported');
  });

  it('names missing channels', () => {
    const r = rejection(syntheticRecording(labels.slice(0, 6), 250, 12));
    assert.equal(r.code, 'channels_missing');
    assert.deepEqual(r.channels, ['O1', 'O2']);
  });

  it('finds flat channels, all of them', () => {
    const flat = withChannel(withChannel(clean, 'C3', () => 3), 'O2', (i) => (i % 2) * 0.1);
    const r = rejection(flat);
    assert.equal(r.code, 'channel_flat');
    assert.deepEqual(r.channels, ['C3', 'O2']);
  });

  it('finds clipped channels', () => {
    const clipped = withChannel(clean, 'Fp1', (_, v) => Math.max(-12, Math.min(12, v)));
    const r = rejection(clipped);
    assert.equal(r.code, 'channel_saturated');
    assert.deepEqual(r.channels, ['Fp1']);
  });

  it('finds mains-dominated channels', () => {
    const hum = withChannel(clean, 'T5', (i, v) => v + 80 * Math.sin((2 * Math.PI * 60 * i) / 250));
    const r = rejection(hum);
    assert.equal(r.code, 'line_noise');
    assert.deepEqual(r.channels, ['T5']);
    // Moderate hum is not a rejection: the notch removes it.
    prepare(withChannel(clean, 'T5', (i, v) => v + 5 * Math.sin((2 * Math.PI * 50 * i) / 250)), config, policy);
  });

  it('finds disconnected electrodes (huge in-band swings)', () => {
    const random = seededRandom(7);
    const off = withChannel(clean, 'C4', (_, v) => v + 2000 * (random() - 0.5));
    const r = rejection(off);
    assert.equal(r.code, 'channel_disconnected');
    assert.deepEqual(r.channels, ['C4']);
  });

  it('rejects only the windows holding an amplitude artefact', () => {
    // A 400 µV blink-like bump at 12–12.3 s on Fp2.
    const blink = withChannel(clean, 'Fp2', (i, v) => v + (i >= 3000 && i < 3075 ? 400 * Math.sin((Math.PI * (i - 3000)) / 75) : 0));
    const w = windows(prepare(blink, config, policy), 10, 5, policy);
    assert.deepEqual(w.map((x) => x.rejection?.code ?? 'ok'), ['ok', 'amplitude_artifact', 'amplitude_artifact', 'ok', 'ok']);
    assert.equal(w[1]!.rejection!.channel, 'Fp2');
  });
});
