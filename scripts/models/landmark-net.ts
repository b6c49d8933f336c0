// face-api's face_landmark_68 net: 112×112 RGB face crop → 68 (x, y) points in 0..1 of the crop.
import { GraphBuilder } from './onnx-graph.js';
import { add, conv, depthwiseToOihw, hwioToOihw, pixelInput, pool, relu, type Feature } from './layers.js';
import { take, type Weight } from './tfjs-weights.js';

export const LANDMARK_INPUT = 112;
const MEAN_RGB = [122.782, 117.001, 104.298];

type Weights = Map<string, Weight>;

/** tf.separableConv2d + bias: 3×3 depthwise then 1×1 pointwise. */
function separable(g: GraphBuilder, weights: Weights, x: Feature, prefix: string, outChannels: number, stride: number): Feature {
  const c = x.channels;
  const label = prefix.replaceAll('/', '_');
  const dw = depthwiseToOihw(take(weights, `${prefix}/depthwise_filter`, [3, 3, c, 1]), 3, 3, c);
  const y = conv(g, x, { weight: dw, kernel: 3, outChannels: c, stride, padding: 'same', group: c }, `${label}_dw`);
  const pw = hwioToOihw(take(weights, `${prefix}/pointwise_filter`, [1, 1, c, outChannels]), 1, 1, c, outChannels);
  const bias = take(weights, `${prefix}/bias`, [outChannels]);
  return conv(g, y, { weight: pw, bias, kernel: 1, outChannels, stride: 1, padding: 'same' }, `${label}_pw`);
}

/** Four densely connected convs; the first halves the resolution. */
function denseBlock(g: GraphBuilder, weights: Weights, x: Feature, prefix: string, outChannels: number, first: boolean): Feature {
  let out1: Feature;
  if (first) {
    const filters = take(weights, `${prefix}/conv0/filters`, [3, 3, x.channels, outChannels]);
    const weight = hwioToOihw(filters, 3, 3, x.channels, outChannels);
    const bias = take(weights, `${prefix}/conv0/bias`, [outChannels]);
    out1 = relu(g, conv(g, x, { weight, bias, kernel: 3, outChannels, stride: 2, padding: 'same' }, `${prefix}_conv0`));
  } else {
    out1 = relu(g, separable(g, weights, x, `${prefix}/conv0`, outChannels, 2));
  }
  const out2 = separable(g, weights, out1, `${prefix}/conv1`, outChannels, 1);
  const in3 = relu(g, add(g, out1, out2));
  const out3 = separable(g, weights, in3, `${prefix}/conv2`, outChannels, 1);
  const in4 = relu(g, add(g, out1, add(g, out2, out3)));
  const out4 = separable(g, weights, in4, `${prefix}/conv3`, outChannels, 1);
  return relu(g, add(g, out1, add(g, out2, add(g, out3, out4))));
}

export function buildLandmarkNet(weights: Weights): Uint8Array {
  const g = new GraphBuilder('face_landmark_68');
  let x = pixelInput(g, 'pixels', LANDMARK_INPUT, MEAN_RGB, 255);
  x = denseBlock(g, weights, x, 'dense0', 32, true);
  x = denseBlock(g, weights, x, 'dense1', 64, false);
  x = denseBlock(g, weights, x, 'dense2', 128, false);
  x = denseBlock(g, weights, x, 'dense3', 256, false);
  x = pool(g, 'AveragePool', x, 7, 2);
  if (x.size !== 1) throw new Error(`landmark features are ${x.size}×${x.size}, expected 1×1`);
  const flat = g.op('Flatten', [x.name]);
  const fcW = g.floats('fc_w', [256, 136], take(weights, 'fc/weights', [256, 136]));
  const fcB = g.floats('fc_b', [136], take(weights, 'fc/bias', [136]));
  g.op('Add', [g.op('MatMul', [flat, fcW]), fcB], {}, 'landmarks');
  g.output('landmarks', ['batch', 136]);
  return g.encode('face-api face_landmark_68_model converted from TF.js weights. Input: pixels NHWC float32 RGB 0..255, '
    + '112x112 square face crop. Output: landmarks [batch,136] as x0,y0,x1,y1,... in 0..1 of the crop.');
}
