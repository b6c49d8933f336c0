// Face embeddings: the 128-D metric-net descriptor of an aligned chip, L2-normalised.
import type * as ort from 'onnxruntime-node';
import { CHIP_SIZE } from './align.js';
import { openSession, runSingleOutput } from './onnx-session.js';

export const EMBEDDING_SIZE = 128;

export class Embedder {
  private constructor(private readonly session: ort.InferenceSession) {}

  static async create(modelPath: string, threads: number): Promise<Embedder> {
    return new Embedder(await openSession(modelPath, threads));
  }

  /** Raw descriptors of a batch of chips (NHWC, 0..255), as the reference net outputs them. */
  private async descriptors(chips: readonly Float32Array[]): Promise<Float32Array[]> {
    const per = CHIP_SIZE * CHIP_SIZE * 3;
    const batch = new Float32Array(per * chips.length);
    chips.forEach((chip, i) => batch.set(chip, i * per));
    const out = await runSingleOutput(this.session, batch, [chips.length, CHIP_SIZE, CHIP_SIZE, 3], 'descriptor');
    return chips.map((_, i) => out.slice(i * EMBEDDING_SIZE, (i + 1) * EMBEDDING_SIZE));
  }

  /**
   * Embedding of one face: the chip and its mirror image are embedded in one batch and averaged
   * (the mirror cancels part of the landmark and pose asymmetry), then L2-normalised.
   */
  async embed(chip: Float32Array): Promise<Float32Array> {
    const [plain, mirrored] = await this.descriptors([chip, mirror(chip)]);
    const sum = new Float32Array(EMBEDDING_SIZE);
    for (let i = 0; i < EMBEDDING_SIZE; i++) sum[i] = plain![i]! + mirrored![i]!;
    return l2Normalise(sum);
  }
}

function l2Normalise(v: Float32Array): Float32Array {
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  if (norm === 0) throw new Error('cannot normalise a zero vector');
  return v.map((x) => x / norm);
}

function mirror(chip: Float32Array): Float32Array {
  const out = new Float32Array(chip.length);
  for (let y = 0; y < CHIP_SIZE; y++) {
    for (let x = 0; x < CHIP_SIZE; x++) {
      const from = (y * CHIP_SIZE + x) * 3;
      const to = (y * CHIP_SIZE + (CHIP_SIZE - 1 - x)) * 3;
      out[to] = chip[from]!; out[to + 1] = chip[from + 1]!; out[to + 2] = chip[from + 2]!;
    }
  }
  return out;
}
