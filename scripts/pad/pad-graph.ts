// The PAD model as one ONNX graph: a few photometric statistics of the aligned face chip's inner
// region followed by a learned logistic regression. A printed photo is a re-imaged picture: it
// loses fine detail (less energy in the finest frequency bands relative to the coarser ones) and
// carries the printer's colour rendering (shifted, flattened chroma). These ratios are measured
// relative to the face's own brightness and contrast, so they hold across lighting better than
// texture codes did (see models/face-pad.md). The statistics are graph operations too, so the
// server runs exactly what training measured.
import { CHIP_SIZE } from '../../src/biometrics/face/align.js';
import { PAD_INPUT, PAD_OUTPUT } from '../../src/biometrics/face/pad.js';
import { GraphBuilder } from '../models/onnx-graph.js';

const CHANNELS = 3;
/** Chip pixels left out on every side: background, hair and the blurs' borders. */
const MARGIN = 20;
const INNER = CHIP_SIZE - 2 * MARGIN;
/** Gaussian scales of the band-pass decomposition of the luminance, finest first. */
const SIGMAS = [0.5, 1, 2, 4] as const;
// Keeps the logarithms finite on a perfectly flat picture (which then scores as an attack).
const EPSILON = 1e-6;
export const FEATURES_OUTPUT = 'features';

export const FEATURE_NAMES = [
  ...SIGMAS.map((_, k) => `band${k}_energy_share`),
  'luma_contrast', 'cb_over_luma', 'cr_over_luma', 'detail_over_contrast',
] as const;
export const FEATURE_LENGTH = FEATURE_NAMES.length;

// BT.601 RGB → Y, Cb, Cr without the chroma offsets (the ratios below use zero-centred chroma).
const YCBCR = [0.299, 0.587, 0.114, -0.168736, -0.331264, 0.5, 0.5, -0.418688, -0.081312];

function gaussian(sigma: number): Float32Array {
  const radius = Math.ceil(3 * sigma);
  const k = Float32Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
  const sum = k.reduce((a, b) => a + b, 0);
  return k.map((v) => v / sum);
}

/** chip [N,150,150,3] → statistics [N, FEATURE_LENGTH]. */
function chipStatistics(g: GraphBuilder, chip: string): string {
  const nchw = g.op('Transpose', [chip], { perm: [0, 3, 1, 2] });
  const ycc = g.op('Conv', [nchw, g.floats('ycbcr', [CHANNELS, CHANNELS, 1, 1], Float32Array.from(YCBCR))], { kernel_shape: [1, 1] });
  const axes = g.int64s('spatial_axes', [2, 3]);
  const inner = (x: string, offset: number) => g.op('Slice', [x, g.int64s('inner_start', [offset, offset]), g.int64s('inner_end', [offset + INNER, offset + INNER]), axes]);
  const channel = (c: number) => g.op('Slice', [ycc, g.int64s('channel_start', [c]), g.int64s('channel_end', [c + 1]), g.int64s('channel_axis', [1])]);
  const mean = (x: string) => g.op('ReduceMean', [x], { axes: [2, 3], keepdims: 0 });
  const luma = channel(0);

  // Blurred copies (valid convolutions, then the same inner window) and the bands between them.
  const levels = [inner(luma, MARGIN)];
  for (const sigma of SIGMAS) {
    const k = gaussian(sigma);
    const across = g.op('Conv', [luma, g.floats('gauss_x', [1, 1, 1, k.length], k)], { kernel_shape: [1, k.length] });
    const blurred = g.op('Conv', [across, g.floats('gauss_y', [1, 1, k.length, 1], k)], { kernel_shape: [k.length, 1] });
    levels.push(inner(blurred, MARGIN - (k.length - 1) / 2));
  }
  const eps = g.scalar('epsilon', EPSILON);
  const square = (x: string) => g.op('Mul', [x, x]);
  const energies = SIGMAS.map((_, k) => g.op('Add', [mean(square(g.op('Sub', [levels[k]!, levels[k + 1]!]))), eps]));
  const detail = energies.slice(1).reduce((sum, e) => g.op('Add', [sum, e]), energies[0]!);

  const face = levels[0]!;
  const lumaMean = mean(face);
  const centred = g.op('Sub', [face, g.op('Unsqueeze', [lumaMean, g.int64s('unsqueeze_axes', [2, 3])])]);
  const lumaSpread = g.op('Sqrt', [g.op('Add', [mean(square(centred)), eps])]);
  const chromaMean = (c: number) => mean(inner(channel(c), MARGIN));
  const brightness = g.op('Add', [lumaMean, eps]);
  const log = (x: string) => g.op('Log', [x]);
  const div = (a: string, b: string) => g.op('Div', [a, b]);
  const columns = [
    ...energies.map((e) => log(div(e, detail))),
    log(div(lumaSpread, brightness)),
    div(chromaMean(1), brightness),
    div(chromaMean(2), brightness),
    log(div(detail, square(lumaSpread))),
  ];
  return g.op('Concat', columns, { axis: 1 });
}

/** The learned part: standardisation and a logistic regression giving P(bona fide). */
export interface LinearHead {
  readonly mean: Float32Array;
  readonly scale: Float32Array;
  readonly weights: Float32Array;
  readonly bias: number;
}

function chipInput(g: GraphBuilder): string {
  return g.input(PAD_INPUT, ['batch', CHIP_SIZE, CHIP_SIZE, CHANNELS]);
}

/** Statistics only: what training fits the head on. */
export function featureModel(): Uint8Array {
  const g = new GraphBuilder('tessera_pad_features');
  g.op('Identity', [chipStatistics(g, chipInput(g))], {}, FEATURES_OUTPUT);
  g.output(FEATURES_OUTPUT, ['batch', FEATURE_LENGTH]);
  return g.encode('Tessera face PAD chip statistics');
}

export function padModel(head: LinearHead, docString: string): Uint8Array {
  const g = new GraphBuilder('tessera_face_pad');
  const features = chipStatistics(g, chipInput(g));
  const standardised = g.op('Div', [g.op('Sub', [features, g.floats('mean', [FEATURE_LENGTH], head.mean)]), g.floats('scale', [FEATURE_LENGTH], head.scale)]);
  const logit = g.op('Add', [g.op('MatMul', [standardised, g.floats('weights', [FEATURE_LENGTH, 1], head.weights)]), g.scalar('bias', head.bias)]);
  g.op('Sigmoid', [logit], {}, PAD_OUTPUT);
  g.output(PAD_OUTPUT, ['batch', 1]);
  return g.encode(docString);
}
