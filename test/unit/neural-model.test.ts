import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { NeuralEmbedder, score } from '../../src/biometrics/neural/embedder.js';
import { NeuralInputError } from '../../src/biometrics/neural/errors.js';
import { coherenceFeatures, featureLength, spectrumFeatures, windowFeatureVector, type FeatureConfig } from '../../src/biometrics/neural/features.js';
import type { ModelDescription } from '../../src/biometrics/neural/model-file.js';
import { montages } from '../../src/biometrics/neural/montage.js';
import { sliceRecording } from '../../src/biometrics/neural/recording.js';
import { listSubjects, loadEdf, repoPath, sharedEegDir } from '../../scripts/neural/dataset.js';
import { evaluateWithEmbedder } from '../../scripts/neural/evaluate.js';
import { projectionModel, projectionOf } from '../../scripts/neural/onnx-export.js';
import { applyProjection, fitProjection } from '../../scripts/neural/projection.js';
import { seededRandom } from '../../scripts/seeded-random.js';
import { buildEdf, syntheticRecording } from './neural-fixtures.js';

const bands: FeatureConfig = { segmentSeconds: 2, bands: [{ name: 'alpha', lowHz: 8, highHz: 13 }], spectrum: null };

describe('coherence features', () => {
  it('is high for channels sharing a rhythm and low for independent noise', () => {
    const random = seededRandom(3);
    const n = 1280;
    const shared = Float64Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * 10 * i) / 128) + 0.2 * (random() - 0.5));
    const echo = shared.map((v) => 0.5 * v + 0.05 * (random() - 0.5));
    const noise = Float64Array.from({ length: n }, () => random() - 0.5);
    const f = coherenceFeatures([shared, echo, noise], 128, bands);
    assert.equal(f.length, featureLength(3, bands));
    // pairs in order (0,1), (0,2), (1,2); atanh(√MSC)
    assert.ok(f[0]! > 1.2, `coherent pair ${f[0]}`);
    assert.ok(f[1]! < 0.6 && f[2]! < 0.6, `independent pairs ${f[1]}, ${f[2]}`);
  });
});

describe('spectrum features', () => {
  it('locate a rhythm in its 1 Hz bin, independent of channel gain', () => {
    const random = seededRandom(5);
    const alpha = (gain: number, hz: number): Float64Array =>
      Float64Array.from({ length: 1280 }, (_, i) => gain * (Math.sin((2 * Math.PI * hz * i) / 128) + 0.1 * (random() - 0.5)));
    const config = { segmentSeconds: 1, lowHz: 3, highHz: 35 };
    const f = spectrumFeatures([alpha(1, 9), alpha(50, 9), alpha(1, 11)], 128, config);
    const bins = 33; // 3..35 Hz
    assert.equal(f.length, 3 * bins);
    const peak = (c: number): number => Array.from(f.subarray(c * bins, (c + 1) * bins)).reduce((best, v, b, all) => (v > all[best]! ? b : best), 0) + 3;
    assert.deepEqual([peak(0), peak(1), peak(2)], [9, 9, 11]);
    // Gain (1 vs 50) does not change the relative spectrum.
    for (let b = 0; b < bins; b++) assert.ok(Math.abs(f[b]! - f[bins + b]!) < 1, `bin ${b + 3} Hz`);
    const withSpectrum = { ...bands, spectrum: config };
    assert.equal(windowFeatureVector([alpha(1, 9), alpha(1, 10)], 128, withSpectrum).length, featureLength(2, withSpectrum));
  });
});

describe('learned projection and its ONNX export', () => {
  const dir = mkdtemp(path.join(os.tmpdir(), 'tessera-neural-'));
  after(async () => rm(await dir, { recursive: true, force: true }));

  // 6 people × 2 conditions: identity lives in a few directions, the condition shift in others.
  const random = seededRandom(11);
  const d = 20;
  const people = Array.from({ length: 6 }, () => Float32Array.from({ length: d }, () => random() * 2 - 1));
  const conditionShift = Float32Array.from({ length: d }, (_, j) => (j % 2 === 0 ? 3 : 0));
  const features: Float32Array[] = [];
  const labels: string[] = [];
  people.forEach((person, p) => {
    for (let k = 0; k < 20; k++) {
      const condition = k % 2;
      features.push(person.map((v, j) => v + condition * (conditionShift[j] as number) * (random() + 0.5) + 0.2 * (random() - 0.5)));
      labels.push(`p${p}`);
    }
  });

  it('maps windows of one person closer together than windows of two people, across conditions', () => {
    const projection = fitProjection(features, labels, { pcaDims: 12, shrinkage: 0.1 });
    const e = features.map((f) => applyProjection(projection, f));
    // window 0 = person 0 condition 0, window 1 = person 0 condition 1, window 21 = person 1 condition 1
    assert.ok(score(e[0]!, e[1]!) > score(e[0]!, e[21]!) + 0.3);
  });

  it('fits the same model from the Gram matrix when there are fewer windows than features', () => {
    // 120 windows of 200 features (the Gram path); the same windows twice (240 ≥ 200: the direct
    // path) have the same mean, scatter and within-class scatter, so the same model.
    const wide = features.map((f) => Float32Array.from({ length: 200 }, (_, j) => (j < d ? f[j]! : f[j % d]! * (random() - 0.5) + random())));
    const options = { pcaDims: 30, shrinkage: 0.1 };
    const gram = fitProjection(wide, labels, options);
    const direct = fitProjection([...wide, ...wide], [...labels, ...labels], options);
    const pairs = [[0, 1], [0, 21], [5, 90], [40, 41]] as const;
    for (const [a, b] of pairs) {
      const viaGram = score(applyProjection(gram, wide[a]!), applyProjection(gram, wide[b]!));
      const viaDirect = score(applyProjection(direct, wide[a]!), applyProjection(direct, wide[b]!));
      assert.ok(Math.abs(viaGram - viaDirect) < 1e-6, `windows ${a}, ${b}: ${viaGram} vs ${viaDirect}`);
    }
  });

  it('exports a graph that onnxruntime runs to the same embeddings', async () => {
    const projection = fitProjection(features, labels, { pcaDims: 8, shrinkage: 0.1 });
    const description: ModelDescription = {
      montage: 'consumer8',
      analysisRate: 128,
      highpassHz: 1,
      lowpassHz: 40,
      windowSeconds: 10,
      features: bands,
      featureLength: d,
      embeddingLength: projection.outputLength,
      threshold: 0.5,
    };
    const file = path.join(await dir, 'projection.onnx');
    await writeFile(file, projectionModel(projection, description));
    const embedder = await NeuralEmbedder.load(file);
    assert.deepEqual(embedder.description, description);
    const fromOnnx = await embedder.project(features.slice(0, 5));
    fromOnnx.forEach((e, i) => {
      const expected = applyProjection(projection, features[i]!);
      e.forEach((v, j) => assert.ok(Math.abs(v - expected[j]!) < 1e-4, `window ${i} dim ${j}: ${v} vs ${expected[j]}`));
    });
    await assert.rejects(embedder.project([new Float32Array(3)]), NeuralInputError);
  });

  it('reads back the projection it exported (float32 weights), and refuses a file without one', () => {
    const projection = fitProjection(features, labels, { pcaDims: 6, shrinkage: 0.3 });
    const description: ModelDescription = { montage: 'consumer8', analysisRate: 128, highpassHz: 1, lowpassHz: 40, windowSeconds: 10, features: bands, featureLength: d, embeddingLength: 6, threshold: 0.5 };
    const read = projectionOf(projectionModel(projection, description));
    assert.deepEqual([read.inputLength, read.outputLength], [d, 6]);
    for (const key of ['mean', 'scale', 'matrix'] as const) {
      assert.equal(read[key].length, projection[key].length);
      read[key].forEach((v, i) => assert.ok(Math.abs(v - projection[key][i]!) <= 1e-6 * Math.max(1, Math.abs(projection[key][i]!)), `${key}[${i}]: ${v} vs ${projection[key][i]}`));
    }
    assert.throws(() => projectionOf(new Uint8Array()), /no float tensor "projection"/);
  });

  it('refuses a model file without a valid pipeline description', async () => {
    const invalid = async (name: string, bytes: Uint8Array): Promise<void> => {
      const file = path.join(await dir, name);
      await writeFile(file, bytes);
      await assert.rejects(NeuralEmbedder.load(file), (err: unknown) => err instanceof NeuralInputError && err.code === 'model_invalid', name);
    };
    await invalid('bare.onnx', new Uint8Array([8, 8]));
    await invalid('garbage.onnx', new TextEncoder().encode('definitely not protobuf \u0000\u00ff'));
    const projection = fitProjection(features, labels, { pcaDims: 4, shrinkage: 0 });
    const description = { montage: 'consumer8', analysisRate: 128, highpassHz: 1, lowpassHz: 40, windowSeconds: 10, features: bands, featureLength: d, embeddingLength: 4, threshold: 0.5 };
    await invalid('montage.onnx', projectionModel(projection, { ...description, montage: 'muse-2' }));
    await invalid('threshold.onnx', projectionModel(projection, { ...description, threshold: 7 }));
  });
});

describe('trained clinical19 model on held-out subjects (shared data)', () => {
  const model = repoPath('models', 'neural-clinical19.onnx');

  it('accepts the enrolled person across conditions and separates two people', async () => {
    assert.ok(existsSync(model), `${model} is missing: run npm run models:train-neural`);
    const embedder = await NeuralEmbedder.load(model);
    const dir = sharedEegDir();
    const [restA, taskA, restB, taskB] = await Promise.all(
      ['Subject21_1', 'Subject21_2', 'Subject22_1', 'Subject22_2'].map((name) => loadEdf(path.join(dir, `${name}.edf`))),
    );
    const enroll = async (rest: typeof restA): Promise<Float32Array> => (await embedder.enroll([sliceRecording(rest!, 0, 60)])).vector;
    const templateA = await enroll(restA);
    const templateB = await enroll(restB);
    for (const [task, own, other] of [
      [taskA!, templateA, templateB],
      [taskB!, templateB, templateA],
    ] as const) {
      const probe = await embedder.embed(sliceRecording(task, 20, 10));
      assert.equal(probe.windowsUsed, 1);
      const genuine = score(own, probe.vector);
      const impostor = score(other, probe.vector);
      assert.ok(genuine >= embedder.threshold, `genuine ${genuine} below threshold ${embedder.threshold}`);
      assert.ok(impostor < embedder.threshold, `impostor ${impostor} reaches threshold ${embedder.threshold}`);
    }
  });

  it('fails closed on a recording that lacks the montage or is too short', async () => {
    const embedder = await NeuralEmbedder.load(model);
    await assert.rejects(embedder.embed(syntheticRecording(montages.consumer8.electrodes, 256, 12)), (err: unknown) => err instanceof NeuralInputError && err.code === 'channels_missing');
    await assert.rejects(embedder.embed(syntheticRecording(montages.clinical19.electrodes, 256, 8)), (err: unknown) => err instanceof NeuralInputError && err.code === 'recording_too_short');
  });

  it('evaluates a folder of subject pairs, going on without people who cannot enroll', async () => {
    const embedder = await NeuralEmbedder.load(model);
    const folder = await mkdtemp(path.join(os.tmpdir(), 'tessera-neural-eval-'));
    try {
      for (const name of ['Subject21_1', 'Subject21_2', 'Subject22_1', 'Subject22_2']) {
        await symlink(path.join(sharedEegDir(), `${name}.edf`), path.join(folder, `${name}.edf`));
      }
      // Subject99: a 5 s resting run (too short to enroll) and a task run.
      const short = buildEdf({ records: 5, signals: montages.clinical19.electrodes.map((label) => ({ label, samplesPerRecord: 500, digital: (i) => Math.round(300 * Math.sin(i / 7)) })) });
      await writeFile(path.join(folder, 'Subject99_1.edf'), short);
      await writeFile(path.join(folder, 'Subject99_2.edf'), short);
      // Subject98: a truncated resting run.
      await writeFile(path.join(folder, 'Subject98_1.edf'), short.subarray(0, short.length - 10));
      await writeFile(path.join(folder, 'Subject98_2.edf'), short);
      const report = await evaluateWithEmbedder(embedder, await listSubjects(folder), () => undefined);
      assert.deepEqual(report.subjects, ['Subject21', 'Subject22']);
      assert.deepEqual(report.notEnrolled, [
        { id: 'Subject98', reason: 'edf_truncated' },
        { id: 'Subject99', reason: 'recording_too_short' },
      ]);
      // 6 task probes and 11 later resting probes each, scored against both templates.
      assert.deepEqual([report.crossCondition.genuineTrials, report.crossCondition.impostorTrials], [12, 12]);
      assert.deepEqual([report.sameCondition.genuineTrials, report.sameCondition.impostorTrials], [22, 22]);
      assert.equal(report.crossCondition.eer, 0);
      assert.equal(report.latencyMs.probes, 34);
      assert.ok(report.latencyMs.p50 > 0 && report.latencyMs.p95 >= report.latencyMs.p50);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
