// Passive presentation-attack detection (PAD): the probability that an aligned face chip shows a
// live face rather than an artefact (a printed photo), from models/face-pad.onnx (see face-pad.md).
import type * as ort from 'onnxruntime-node';
import { CHIP_SIZE } from './align.js';
import { openSession, runSingleOutput } from './onnx-session.js';

// The input name every face model of the pipeline uses (runSingleOutput feeds it).
export const PAD_INPUT = 'pixels';
export const PAD_OUTPUT = 'bona_fide';
/** The mean bona-fide score a burst must reach: models/face-pad.md says how it was set. */
export const DEFAULT_PAD_THRESHOLD = 0.7;

export class PadModel {
  private constructor(private readonly session: ort.InferenceSession) {}

  static async create(modelPath: string, threads: number): Promise<PadModel> {
    return new PadModel(await openSession(modelPath, threads));
  }

  /** Bona-fide scores (0..1, higher = more likely live) of a batch of chips (NHWC, 0..255). */
  async scores(chips: readonly Float32Array[]): Promise<number[]> {
    const per = CHIP_SIZE * CHIP_SIZE * 3;
    const batch = new Float32Array(per * chips.length);
    chips.forEach((chip, i) => batch.set(chip, i * per));
    return [...(await runSingleOutput(this.session, batch, [chips.length, CHIP_SIZE, CHIP_SIZE, 3], PAD_OUTPUT))];
  }
}
