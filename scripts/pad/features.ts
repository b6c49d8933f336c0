// Descriptors of cached chips, computed by the feature-only graph through onnxruntime (the same
// operations the shipped model runs), cached under .scratch/ per feature graph.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { CHIP_SIZE } from '../../src/biometrics/face/align.js';
import { PAD_INPUT } from '../../src/biometrics/face/pad.js';
import { PROJECT_ROOT } from '../../src/paths.js';
import { FEATURE_LENGTH, FEATURES_OUTPUT, featureModel } from './pad-graph.js';

const BATCH = 32;

export async function chipFeatures(chips: readonly Float32Array[]): Promise<Float32Array[]> {
  const d = FEATURE_LENGTH;
  const model = featureModel();
  const key = createHash('sha256').update(model);
  for (const chip of chips) key.update(new Uint8Array(chip.buffer, chip.byteOffset, chip.byteLength));
  const file = join(PROJECT_ROOT, '.scratch', 'pad-features', `${key.digest('hex')}.f32`);
  if (existsSync(file)) {
    const raw = await readFile(file);
    const all = new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4);
    return chips.map((_, i) => all.slice(i * d, (i + 1) * d));
  }
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
  const per = CHIP_SIZE * CHIP_SIZE * 3;
  const all = new Float32Array(chips.length * d);
  for (let start = 0; start < chips.length; start += BATCH) {
    const part = chips.slice(start, start + BATCH);
    const input = new Float32Array(part.length * per);
    part.forEach((chip, i) => input.set(chip, i * per));
    const out = await session.run({ [PAD_INPUT]: new ort.Tensor('float32', input, [part.length, CHIP_SIZE, CHIP_SIZE, 3]) });
    all.set(out[FEATURES_OUTPUT]!.data as Float32Array, start * d);
  }
  await session.release();
  await mkdir(join(PROJECT_ROOT, '.scratch', 'pad-features'), { recursive: true });
  await writeFile(file, all);
  return chips.map((_, i) => all.slice(i * d, (i + 1) * d));
}
