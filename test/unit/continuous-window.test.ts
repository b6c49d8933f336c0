// Streaming windows: emission on the sample clock, the streaming filters against the batch ones,
// and a streamed window's embedding against NeuralEmbedder.embed of the same 10 s of real EEG.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { NeuralEmbedder, score } from '../../src/biometrics/neural/embedder.js';
import { butterworth, resample } from '../../src/biometrics/neural/filters.js';
import { signalConfig } from '../../src/biometrics/neural/model-file.js';
import { selectMontage } from '../../src/biometrics/neural/montage.js';
import { defaultQualityPolicy } from '../../src/biometrics/neural/quality.js';
import { sliceRecording, type Recording } from '../../src/biometrics/neural/recording.js';
import { CausalCascade, StreamingResampler } from '../../src/biometrics/neural/stream-filters.js';
import { StreamAnalysis, type AnalysedWindow } from '../../src/continuous/stream-analysis.js';
import { WindowBuffer } from '../../src/continuous/window-buffer.js';
import { loadEdf, repoPath, sharedEegDir } from '../../scripts/neural/dataset.js';
import { seededRandom } from '../../scripts/seeded-random.js';

const noise = (n: number, seed: number) => {
  const random = seededRandom(seed);
  return Float64Array.from({ length: n }, () => random() * 2 - 1);
};

test('windows are emitted every hop of stream time, whatever the chunk sizes', () => {
  const buffer = new WindowBuffer(2, 100, { windowSeconds: 4, hopSeconds: 3 }, 4);
  const ends: number[] = [];
  const seconds: number[] = [];
  // 0.3 s, 1.7 s, 4 s, … chunks: 20 s in all.
  const sizes = [30, 170, 400, 5, 395, 300, 100, 250, 350];
  let value = 0;
  for (const n of sizes) {
    const chunk = [0, 1].map((c) => Float32Array.from({ length: n }, (_, i) => value + i + c * 0.5));
    value += n;
    const appended = buffer.append(chunk);
    ends.push(...appended.windowEnds);
    seconds.push(...appended.seconds);
    // Every completed window is still readable, and holds exactly its samples.
    for (const end of appended.windowEnds) {
      const span = buffer.span(1, end - 4, end);
      assert.equal(span.length, 400);
      assert.equal(span[0], (end - 4) * 100 + 0.5);
    }
  }
  assert.deepEqual(ends, [4, 7, 10, 13, 16, 19]);
  assert.deepEqual(seconds, Array.from({ length: 20 }, (_, i) => i));
  assert.throws(() => buffer.append([new Float32Array(401), new Float32Array(401)]), RangeError);
});

test('the streaming resampler gives the batch resampler\'s samples away from the ends', () => {
  for (const [from, to] of [[500, 128], [256, 128], [250, 128], [128, 128]] as const) {
    const x = noise(from * 12, from);
    const batch = resample(x, from, to);
    const stream = new StreamingResampler(from, to);
    const pieces: number[] = [];
    for (let at = 0, k = 0; at < x.length; k++) {
      const n = [1, 97, from, 3 * from + 7][k % 4] as number;
      pieces.push(...stream.push(x.subarray(at, at + n)));
      at += n;
    }
    // All but the output the last input cannot complete yet.
    assert.ok(pieces.length >= batch.length - 2 * stream.delay - 2, `${from} Hz: ${pieces.length} of ${batch.length}`);
    for (let i = 2 * to; i < pieces.length; i++) assert.ok(Math.abs((pieces[i] as number) - (batch[i] as number)) < 1e-9, `${from} Hz sample ${i}`);
    // The delay is whole input samples.
    assert.ok(Number.isInteger((stream.delay * from) / to));
  }
});

test('a causal cascade gives the same output piece by piece as in one run', () => {
  const sections = [...butterworth('highpass', 128, 1), ...butterworth('lowpass', 128, 40)];
  const x = noise(2000, 3).map((v) => v + 40);
  const whole = new CausalCascade(sections);
  const one = Float64Array.from(x);
  whole.run(one);
  const pieces = new CausalCascade(sections);
  const out: number[] = [];
  for (let at = 0; at < x.length; at += 333) {
    const piece = x.slice(at, at + 333);
    pieces.run(piece);
    out.push(...piece);
  }
  assert.deepEqual(Float64Array.from(out), one);
  // Started in the steady state: a constant offset does not ring through the high-pass.
  assert.ok(Math.abs(one[0] as number) < 1e-9);
});

describeModel('clinical19-v2', 'Subject21_1.edf', 0.99);
describeModel('consumer8-v2', 'Subject22_1.edf', 0.975);

/**
 * Streams a resting run second by second and compares each window's embedding with the embedder's
 * for the 10 s the window analysed (the stream's time less the resampler's delay).
 */
function describeModel(model: string, file: string, bar: number): void {
  let embedder: NeuralEmbedder;
  let recording: Recording;
  let windows: AnalysedWindow[];
  let delaySeconds: number;
  before(async () => {
    embedder = await NeuralEmbedder.load(repoPath('models', `neural-${model}.onnx`));
    const signal = signalConfig(embedder.description);
    recording = selectMontage(await loadEdf(`${sharedEegDir()}/${file}`), signal.montage);
    const rate = recording.sampleRate;
    delaySeconds = new StreamingResampler(rate, signal.analysisRate).delay / signal.analysisRate;
    const analysis = new StreamAnalysis(signal.montage.electrodes, rate, signal, embedder.description.features, defaultQualityPolicy, { windowSeconds: 10, hopSeconds: 5 }, 4);
    windows = [];
    // The first 120 s in 1 s frames; a blink-sized swing (400 µV) on Fp1 from 80.2 to 80.4 s.
    const spike = 80.2 * rate;
    for (let s = 0; s < 120; s++) {
      windows.push(
        ...analysis.push(
          recording.channels.map((c, k) => {
            const frame = c.samples.slice(s * rate, (s + 1) * rate);
            if (k === 0) for (let i = 0; i < frame.length; i++) if (s * rate + i >= spike && s * rate + i < spike + 0.2 * rate) frame[i] = (frame[i] as number) + 400;
            return frame;
          }),
        ),
      );
    }
  });

  test(`${model}: a streamed window embeds within cosine ${bar} of the same 10 s uploaded (real eegmat)`, async () => {
    assert.deepEqual(
      windows.map((w) => w.endSeconds),
      Array.from({ length: 23 }, (_, i) => 10 + 5 * i),
    );
    const clean = windows.filter((w) => w.features !== undefined && w.endSeconds > 10 && (w.endSeconds <= 80 || w.endSeconds > 91));
    const streamed = await embedder.project(clean.map((w) => w.features!));
    const cosines = await Promise.all(clean.map(async (w, i) => score(streamed[i]!, (await embedder.embed(sliceRecording(recording, w.endSeconds - 10 - delaySeconds, 10))).vector)));
    assert.ok(Math.min(...cosines) >= bar, `lowest ${Math.min(...cosines).toFixed(4)}`);
  });

  test(`${model}: the windows holding a blink-sized swing are rejected, the others scored`, () => {
    const rejected = windows.filter((w) => w.rejection !== undefined).map((w) => w.endSeconds);
    // The swing (80.2 s raw, 80.45 s analysed) lies in the windows ending at 85 and 90.
    assert.deepEqual(rejected, [85, 90]);
    for (const w of windows.filter((x) => x.rejection)) assert.equal(w.rejection?.code, 'amplitude_artifact');
  });
}
