// Reads a TensorFlow.js weights manifest and its binary shard(s) into plain float arrays.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface Weight {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  quantization?: { dtype: 'uint8' | 'uint16'; scale: number; min: number };
}

interface ManifestGroup {
  paths: string[];
  weights: ManifestEntry[];
}

const BYTES = { float32: 4, int32: 4, uint8: 1, uint16: 2 } as const;

/** Dequantises exactly as tfjs-core does: value = q·scale + min, computed in double, stored as float32. */
export async function readTfjsWeights(dir: string, model: string): Promise<Map<string, Weight>> {
  const manifest = JSON.parse(await readFile(join(dir, `${model}-weights_manifest.json`), 'utf8')) as ManifestGroup[];
  const weights = new Map<string, Weight>();
  for (const group of manifest) {
    const shards = await Promise.all(group.paths.map((p) => readFile(join(dir, p))));
    const buffer = Buffer.concat(shards);
    let offset = 0;
    for (const entry of group.weights) {
      const count = entry.shape.reduce((a, b) => a * b, 1);
      const stored = entry.quantization?.dtype ?? entry.dtype;
      const bytes = count * BYTES[stored];
      const view = new DataView(buffer.buffer, buffer.byteOffset + offset, bytes);
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) {
        if (entry.quantization) {
          const q = stored === 'uint8' ? view.getUint8(i) : view.getUint16(i * 2, true);
          data[i] = q * entry.quantization.scale + entry.quantization.min;
        } else {
          data[i] = stored === 'int32' ? view.getInt32(i * 4, true) : view.getFloat32(i * 4, true);
        }
      }
      weights.set(entry.name, { shape: entry.shape, data });
      offset += bytes;
    }
    if (offset !== buffer.length) throw new Error(`${model}: ${buffer.length - offset} unread bytes in weights`);
  }
  return weights;
}

/** Looks a weight up and checks its shape, so a wrong name or layout fails the build loudly. */
export function take(weights: Map<string, Weight>, name: string, shape: readonly number[]): Float32Array {
  const w = weights.get(name);
  if (!w) throw new Error(`missing weight ${name}`);
  if (w.shape.join('x') !== shape.join('x')) {
    throw new Error(`weight ${name}: shape ${w.shape.join('x')}, expected ${shape.join('x')}`);
  }
  return w.data;
}
