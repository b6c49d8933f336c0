// The pipeline's own aligned chip of every sample (detector → landmarks → alignment), cached under
// .scratch/ by file content so training and evaluation see exactly what the server computes.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isFaceError, type FacePipeline } from '../../src/biometrics/face/index.js';
import { PROJECT_ROOT } from '../../src/paths.js';
import type { PadSample } from './dataset.js';

const CACHE_DIR = join(PROJECT_ROOT, '.scratch', 'pad-chips');

export interface SampleChip {
  readonly sample: PadSample;
  /** Undefined when the pipeline found no usable face (a failure to acquire). */
  readonly chip: Float32Array | undefined;
  readonly failure?: string;
}

async function chipOf(pipeline: FacePipeline, bytes: Buffer): Promise<{ chip?: Float32Array; failure?: string }> {
  const base = join(CACHE_DIR, createHash('sha256').update(bytes).digest('hex'));
  if (existsSync(`${base}.f32`)) {
    const raw = await readFile(`${base}.f32`);
    return { chip: new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4) };
  }
  if (existsSync(`${base}.fail`)) return { failure: await readFile(`${base}.fail`, 'utf8') };
  try {
    const { chip } = await pipeline.crop(bytes);
    await writeFile(`${base}.f32`, chip);
    return { chip };
  } catch (error) {
    if (!isFaceError(error)) throw error;
    await writeFile(`${base}.fail`, error.reason);
    return { failure: error.reason };
  }
}

export async function sampleChips(pipeline: FacePipeline, samples: readonly PadSample[]): Promise<SampleChip[]> {
  await mkdir(CACHE_DIR, { recursive: true });
  const out: SampleChip[] = [];
  for (const sample of samples) {
    const { chip, failure } = await chipOf(pipeline, await readFile(sample.path));
    out.push(failure === undefined ? { sample, chip } : { sample, chip, failure });
  }
  return out;
}
