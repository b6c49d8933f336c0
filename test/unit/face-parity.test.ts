// Converted ONNX models vs the reference: face-api itself running the shipped TF.js weights on
// TensorFlow.js's pure-JS CPU backend, fed the same input tensors.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { ssdAnchors } from '../../src/biometrics/face/anchors.js';
import { decodeBox } from '../../src/biometrics/face/detector.js';
import { MODEL_FILES } from '../../src/biometrics/face/index.js';
import { readTfjsWeights } from '../../scripts/models/tfjs-weights.js';
import { assertModelsBuilt, FACE_API_DIR, identityImages, MODELS_DIR } from './face-support.js';

// Tolerances: float32 with a different summation order and the scale layers folded into the convs;
// the shipped anchors were generated in float32 by TF, ours in double (differences up to ~4e-5).
const DESCRIPTOR_TOLERANCE = 1e-5;
const LANDMARK_TOLERANCE = 1e-5;
const DETECTOR_TOLERANCE = 1e-4;

/* eslint-disable @typescript-eslint/no-explicit-any -- the reference bundle ships no usable types */
let faceapi: any;
let tf: any;

/** face-api's browser bundle needs a `window` and a `document` to load; only the CPU backend runs. */
async function loadReference(): Promise<void> {
  Object.assign(globalThis, { window: globalThis, document: { createElement: () => ({ getContext: () => null }) } });
  faceapi = await import(join(FACE_API_DIR, 'dist/face-api.esm.js'));
  tf = faceapi.tf;
  await tf.setBackend('cpu');
  await tf.ready();
}

/** Loads a net from the shipped weights with tfjs's own decoder (the converter's is not used here). */
async function loadNet(net: any, model: string): Promise<void> {
  const dir = join(FACE_API_DIR, 'model');
  const [group] = JSON.parse(await readFile(join(dir, `${model}-weights_manifest.json`), 'utf8'));
  const bin = await readFile(join(dir, group.paths[0]));
  net.loadFromWeightMap(tf.io.decodeWeights(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length), group.weights));
}

async function pixels(file: string, size: number): Promise<Float32Array> {
  const data = await sharp(file).resize(size, size, { fit: 'fill' }).removeAlpha().toColourspace('srgb').raw().toBuffer();
  return Float32Array.from(data);
}

async function runOnnx(file: string, input: Float32Array, size: number): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(join(MODELS_DIR, file));
  const out = await session.run({ pixels: new ort.Tensor('float32', input, [1, size, size, 3]) });
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
}

/** Our anchors are centre and size; the shipped ones are corners (ymin, xmin, ymax, xmax). */
function anchorCorners(anchors: Float32Array): Float32Array {
  const out = new Float32Array(anchors.length);
  for (let i = 0; i < anchors.length; i += 4) {
    const [cy, cx, h, w] = [anchors[i]!, anchors[i + 1]!, anchors[i + 2]!, anchors[i + 3]!];
    out.set([cy - h / 2, cx - w / 2, cy + h / 2, cx + w / 2], i);
  }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'output sizes differ');
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe('converted face models match face-api on TensorFlow.js', () => {
  let faces: string[] = [];

  before(async () => {
    assertModelsBuilt();
    await loadReference();
    faces = (await identityImages('faces-lfw-dev', 2, 1)).flatMap((p) => p.files);
  });

  test('recognition net: 128-D descriptors', async (t) => {
    await loadNet(faceapi.nets.faceRecognitionNet, 'face_recognition_model');
    let worst = 0;
    for (const file of faces) {
      const input = await pixels(file, 150);
      const expected = await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(tf.tensor4d(input, [1, 150, 150, 3]));
      const { descriptor } = await runOnnx(MODEL_FILES.recognition, input, 150);
      worst = Math.max(worst, maxAbsDiff(descriptor!, expected));
    }
    t.diagnostic(`recognition max abs diff ${worst.toExponential(2)} over ${faces.length} faces`);
    assert.ok(worst < DESCRIPTOR_TOLERANCE, `descriptor diff ${worst}`);
  });

  test('landmark net: 68 points', async (t) => {
    await loadNet(faceapi.nets.faceLandmark68Net, 'face_landmark_68_model');
    let worst = 0;
    for (const file of faces) {
      const input = await pixels(file, 112);
      const expected = await (await faceapi.nets.faceLandmark68Net.forward(tf.tensor4d(input, [1, 112, 112, 3]))).data();
      const { landmarks } = await runOnnx(MODEL_FILES.landmarks, input, 112);
      worst = Math.max(worst, maxAbsDiff(landmarks!, expected));
    }
    t.diagnostic(`landmarks max abs diff ${worst.toExponential(2)} (units of the crop side) over ${faces.length} faces`);
    assert.ok(worst < LANDMARK_TOLERANCE, `landmark diff ${worst}`);
  });

  test('SSD anchors regenerated at 512×512 equal the shipped ones', async (t) => {
    const shipped = (await readTfjsWeights(join(FACE_API_DIR, 'model'), 'ssd_mobilenetv1_model')).get('Output/extra_dim');
    assert.ok(shipped, 'shipped anchors missing');
    const diff = maxAbsDiff(anchorCorners(ssdAnchors(512)), shipped.data);
    t.diagnostic(`anchors max abs diff ${diff.toExponential(2)}`);
    assert.ok(diff < DETECTOR_TOLERANCE, `anchor diff ${diff}`);
  });

  test('SSD detector: decoded boxes and scores', async (t) => {
    // The reference always resizes to 512, which takes about a minute on the pure-JS backend. Both
    // networks are fully convolutional, so the reference runs at 256 instead: its input hook hands
    // it the 256×256 tensor and its anchors are swapped for the 256 set (checked against the
    // shipped 512 set above). Everything else is face-api's own code and weights.
    const size = 256;
    const net = faceapi.nets.ssdMobilenetv1;
    await loadNet(net, 'ssd_mobilenetv1_model');
    const anchors = ssdAnchors(size);
    net.params.output_layer.extra_dim = tf.tensor3d(anchorCorners(anchors), [1, anchors.length / 4, 4]);
    const input = await pixels(faces[0]!, size);
    const reference = net.forwardInput({ toBatchTensor: () => tf.tensor4d(input, [1, size, size, 3]) });
    const expectedBoxes: Float32Array = await reference.boxes[0].data();
    const expectedScores: Float32Array = await reference.scores[0].data();
    const { encodings, scores } = await runOnnx(MODEL_FILES.detector, input, size);
    const boxes = new Float32Array(expectedBoxes.length);
    for (let i = 0; i < boxes.length / 4; i++) boxes.set(decodeBox(anchors, encodings!, i), i * 4);
    const boxDiff = maxAbsDiff(boxes, expectedBoxes);
    const scoreDiff = maxAbsDiff(scores!, expectedScores);
    t.diagnostic(`detector at ${size}×${size}: boxes max abs diff ${boxDiff.toExponential(2)}, scores ${scoreDiff.toExponential(2)}`);
    assert.ok(expectedScores.some((s) => s > 0.5), 'the reference should find the face');
    assert.ok(boxDiff < DETECTOR_TOLERANCE, `box diff ${boxDiff}`);
    assert.ok(scoreDiff < DETECTOR_TOLERANCE, `score diff ${scoreDiff}`);
  });
});
