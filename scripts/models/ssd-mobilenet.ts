// face-api's ssd_mobilenetv1 face detector: MobileNetV1 backbone and six SSD box predictors.
// Fully convolutional, so any square input size runs; the anchors for that size, the box decoding
// and NMS live in src/biometrics/face/ (at 512×512 they reproduce the shipped 'Output/extra_dim').
import { GraphBuilder } from './onnx-graph.js';
import { conv, depthwiseToOihw, hwioToOihw, pixelInput, relu6, type Feature } from './layers.js';
import { take, type Weight } from './tfjs-weights.js';

const BN_EPSILON = 0.0010000000474974513;

type Weights = Map<string, Weight>;

/** conv (no bias) + batch-norm offset + ReLU6: MobileNet's pointwise layer as exported by TF. */
function pointwise(g: GraphBuilder, weights: Weights, x: Feature, prefix: string, kernel: number, stride: number): Feature {
  const w = weights.get(`${prefix}/weights`);
  const outChannels = w?.shape[3];
  if (outChannels === undefined) throw new Error(`missing weight ${prefix}/weights`);
  const filters = take(weights, `${prefix}/weights`, [kernel, kernel, x.channels, outChannels]);
  const bias = take(weights, `${prefix}/convolution_bn_offset`, [outChannels]);
  const weight = hwioToOihw(filters, kernel, kernel, x.channels, outChannels);
  return relu6(g, conv(g, x, { weight, bias, kernel, outChannels, stride, padding: 'same' }, prefix.replaceAll('/', '_')));
}

/** 3×3 depthwise conv + batch norm + ReLU6. */
function depthwise(g: GraphBuilder, weights: Weights, x: Feature, prefix: string, stride: number): Feature {
  const c = x.channels;
  const weight = depthwiseToOihw(take(weights, `${prefix}/depthwise_weights`, [3, 3, c, 1]), 3, 3, c);
  const label = prefix.replaceAll('/', '_');
  const y = conv(g, x, { weight, kernel: 3, outChannels: c, stride, padding: 'same', group: c }, label);
  const bn = ['gamma', 'beta', 'moving_mean', 'moving_variance'].map((p) => g.floats(`${label}_${p}`, [c], take(weights, `${prefix}/BatchNorm/${p}`, [c])));
  return relu6(g, { ...y, name: g.op('BatchNormalization', [y.name, ...bn], { epsilon: BN_EPSILON }) });
}

/** One SSD head: 1×1 convs for box encodings and class logits, flattened in TF's NHWC order. */
function boxPredictor(g: GraphBuilder, weights: Weights, x: Feature, index: number): { boxes: string; classes: string } {
  const head = (kind: string, values: number): string => {
    const prefix = `Prediction/BoxPredictor_${index}/${kind}`;
    const outChannels = weights.get(`${prefix}/weights`)?.shape[3];
    if (outChannels === undefined) throw new Error(`missing weight ${prefix}/weights`);
    const weight = hwioToOihw(take(weights, `${prefix}/weights`, [1, 1, x.channels, outChannels]), 1, 1, x.channels, outChannels);
    const bias = take(weights, `${prefix}/biases`, [outChannels]);
    const y = conv(g, x, { weight, bias, kernel: 1, outChannels, stride: 1, padding: 'same' }, prefix.replaceAll('/', '_'));
    const nhwc = g.op('Transpose', [y.name], { perm: [0, 2, 3, 1] });
    return g.op('Reshape', [nhwc, g.int64s('shape', [0, -1, values])]);
  };
  return { boxes: head('BoxEncodingPredictor', 4), classes: head('ClassPredictor', 3) };
}

export function buildDetectorNet(weights: Weights): Uint8Array {
  const g = new GraphBuilder('ssd_mobilenetv1_face');
  // The size only drives padding arithmetic: TF 'same' padding is the same for any even size.
  let x = pixelInput(g, 'pixels', 512, [127.5, 127.5, 127.5], 127.5, 'size');
  x = pointwise(g, weights, x, 'MobilenetV1/Conv2d_0_pointwise', 3, 2);
  let conv11: Feature | undefined;
  for (let i = 1; i <= 13; i++) {
    const stride = [2, 4, 6, 12].includes(i) ? 2 : 1;
    x = depthwise(g, weights, x, `MobilenetV1/Conv2d_${i}_depthwise`, stride);
    x = pointwise(g, weights, x, `MobilenetV1/Conv2d_${i}_pointwise`, 1, 1);
    if (i === 11) conv11 = x;
  }
  if (!conv11) throw new Error('conv11 not built');
  const extra: Feature[] = [];
  let y = pointwise(g, weights, x, 'Prediction/Conv2d_0_pointwise', 1, 1);
  for (let i = 1; i <= 7; i++) {
    const kernel = i % 2 === 1 ? 3 : 1;
    y = pointwise(g, weights, y, `Prediction/Conv2d_${i}_pointwise`, kernel, kernel === 3 ? 2 : 1);
    if (kernel === 3) extra.push(y);
  }
  const heads = [conv11, x, ...extra].map((f, i) => boxPredictor(g, weights, f, i));
  g.op('Concat', heads.map((h) => h.boxes), { axis: 1 }, 'encodings');
  const logits = g.op('Concat', heads.map((h) => h.classes), { axis: 1 });
  const faceLogit = g.op('Slice', [logits, g.int64s('starts', [1]), g.int64s('ends', [2]), g.int64s('axes', [2])]);
  g.op('Squeeze', [g.op('Sigmoid', [faceLogit]), g.int64s('axes', [2])], {}, 'scores');
  g.output('encodings', ['batch', 'anchors', 4]);
  g.output('scores', ['batch', 'anchors']);
  return g.encode('face-api ssd_mobilenetv1_model (SSD MobileNetV1 face detector) converted from TF.js weights. '
    + 'Input: pixels NHWC float32 RGB 0..255, square, a multiple of 32 (trained at 512). Outputs: encodings '
    + '[batch,anchors,4] (dy,dx,dh,dw against SSD anchors) and scores [batch,anchors] face probability.');
}
