// face-api's face_recognition net (dlib's ResNet-34-like metric net): 150×150 RGB → 128-D descriptor.
import { GraphBuilder } from './onnx-graph.js';
import { add, conv, hwioToOihw, pixelInput, pool, relu, type Feature, type Padding } from './layers.js';
import { take, type Weight } from './tfjs-weights.js';

export const RECOGNITION_INPUT = 150;
const MEAN_RGB = [122.782, 117.001, 104.298];

type Weights = Map<string, Weight>;

/** conv + bias, then the per-channel scale layer folded in: (conv·w + b)·s + t = conv·(w·s) + (b·s + t). */
function scaledConv(g: GraphBuilder, weights: Weights, x: Feature, prefix: string, outChannels: number, kernel: number, stride: number, padding: Padding): Feature {
  const filters = take(weights, `${prefix}/conv/filters`, [kernel, kernel, x.channels, outChannels]);
  const bias = take(weights, `${prefix}/conv/bias`, [outChannels]);
  const scale = take(weights, `${prefix}/scale/weights`, [outChannels]);
  const shift = take(weights, `${prefix}/scale/biases`, [outChannels]);
  const weight = hwioToOihw(filters, kernel, kernel, x.channels, outChannels);
  const perOut = weight.length / outChannels;
  for (let o = 0; o < outChannels; o++) {
    for (let i = 0; i < perOut; i++) weight[o * perOut + i]! *= scale[o]!;
  }
  const foldedBias = bias.map((b, o) => b * scale[o]! + shift[o]!);
  return conv(g, x, { weight, bias: foldedBias, kernel, outChannels, stride, padding }, prefix.replaceAll('/', '_'));
}

function residual(g: GraphBuilder, weights: Weights, x: Feature, prefix: string): Feature {
  const a = relu(g, scaledConv(g, weights, x, `${prefix}/conv1`, x.channels, 3, 1, 'same'));
  const b = scaledConv(g, weights, a, `${prefix}/conv2`, x.channels, 3, 1, 'same');
  return relu(g, add(g, b, x));
}

/**
 * The downsampling block, reproduced as face-api runs it: the main branch is a stride-2 'valid'
 * conv; the shortcut is a 2×2 average pool zero-padded on channels. When the pooled map is one
 * pixel larger, the conv branch gets a zero row and column appended at the bottom/right (after
 * its scale layer, so they stay exactly zero) before the sum.
 */
function residualDown(g: GraphBuilder, weights: Weights, x: Feature, prefix: string, outChannels: number): Feature {
  const a = relu(g, scaledConv(g, weights, x, `${prefix}/conv1`, outChannels, 3, 2, 'valid'));
  let b = scaledConv(g, weights, a, `${prefix}/conv2`, outChannels, 3, 1, 'same');
  let shortcut = pool(g, 'AveragePool', x, 2, 2);
  const grow = shortcut.size - b.size;
  if (grow !== 0 && grow !== 1) throw new Error(`${prefix}: unexpected size gap ${grow}`);
  if (grow === 1) {
    b = { ...b, size: b.size + 1, name: g.op('Pad', [b.name, g.int64s('pads', [0, 0, 0, 0, 0, 0, 1, 1])]) };
  }
  const extraChannels = outChannels - shortcut.channels;
  if (extraChannels > 0) {
    shortcut = {
      ...shortcut,
      channels: outChannels,
      name: g.op('Pad', [shortcut.name, g.int64s('pads', [0, 0, 0, 0, 0, extraChannels, 0, 0])]),
    };
  }
  return relu(g, add(g, shortcut, b));
}

export function buildRecognitionNet(weights: Weights): Uint8Array {
  const g = new GraphBuilder('face_recognition');
  let x = pixelInput(g, 'pixels', RECOGNITION_INPUT, MEAN_RGB, 255);
  x = relu(g, scaledConv(g, weights, x, 'conv32_down', 32, 7, 2, 'valid'));
  x = pool(g, 'MaxPool', x, 3, 2);
  for (const block of ['conv32_1', 'conv32_2', 'conv32_3']) x = residual(g, weights, x, block);
  x = residualDown(g, weights, x, 'conv64_down', 64);
  for (const block of ['conv64_1', 'conv64_2', 'conv64_3']) x = residual(g, weights, x, block);
  x = residualDown(g, weights, x, 'conv128_down', 128);
  for (const block of ['conv128_1', 'conv128_2']) x = residual(g, weights, x, block);
  x = residualDown(g, weights, x, 'conv256_down', 256);
  for (const block of ['conv256_1', 'conv256_2']) x = residual(g, weights, x, block);
  x = residualDown(g, weights, x, 'conv256_down_out', 256);
  const pooled = g.op('Flatten', [g.op('GlobalAveragePool', [x.name])]);
  const fc = g.floats('fc', [256, 128], take(weights, 'fc', [256, 128]));
  g.op('MatMul', [pooled, fc], {}, 'descriptor');
  g.output('descriptor', ['batch', 128]);
  return g.encode('face-api face_recognition_model (dlib ResNet metric net) converted from TF.js weights. '
    + 'Input: pixels NHWC float32 RGB 0..255, 150x150. Output: descriptor [batch,128], not normalised.');
}
