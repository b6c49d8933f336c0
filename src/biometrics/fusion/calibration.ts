// A matcher's calibration: the line that turns its raw score into a log-likelihood ratio, and the
// data it was fitted on. Stored as a small JSON file beside the model (models/<model>.calibration.json).
import { z } from 'zod';
import { oriented, type ScoreKind } from './score-direction.js';

export interface Calibration {
  /** The step whose score this calibrates (`face`, `neural`). */
  readonly matcher: string;
  /** The model file the scores came from, without extension (`face-recognition`, `neural-clinical19-v2`). */
  readonly model: string;
  readonly score: ScoreKind;
  /** LLR = a·score + b (natural log; > 0 favours "same person"). */
  readonly a: number;
  readonly b: number;
  readonly fittedOn: {
    /** The data folder's name (not a path: where it sits differs between machines). */
    readonly data: string;
    readonly genuine: number;
    readonly impostor: number;
    /** How the trials were formed, in a sentence. */
    readonly protocol: string;
    /** ISO date and the repository commit (`+dirty` with uncommitted changes) of the fit. */
    readonly date: string;
    readonly commit: string;
    /** Calibration error on the fitting data itself (see calibration-error.ts). */
    readonly ece: number;
    readonly cllr: number;
  };
}

export class CalibrationError extends Error {}

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const count = z.number().int().positive();
const schema = z
  .object({
    matcher: z.string().min(1),
    model: z.string().min(1),
    score: z.object({ kind: z.string().min(1), direction: z.enum(['lower-is-genuine', 'higher-is-genuine']) }).strict(),
    a: finite,
    b: finite,
    fittedOn: z
      .object({
        data: z.string().min(1),
        genuine: count,
        impostor: count,
        protocol: z.string().min(1),
        date: z.string().min(1),
        commit: z.string().min(1),
        ece: z.number().min(0).max(1),
        cllr: z.number().min(0),
      })
      .strict(),
  })
  .strict()
  // A slope of the wrong sign would turn the best matches into the worst: refuse it at load.
  .refine((c) => oriented(c.score.direction, c.a) > 0, { message: 'the slope a contradicts the score direction', path: ['a'] });

/** Validates a parsed calibration file; `source` names it in the error. */
export function parseCalibration(json: unknown, source = 'calibration'): Calibration {
  const result = schema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new CalibrationError(`${source}: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

export function calibrationJson(calibration: Calibration): string {
  return `${JSON.stringify(calibration, null, 2)}\n`;
}

/** The score's log-likelihood ratio. A face that could not be acquired (distance +∞) gives −∞. */
export function scoreLlr(calibration: Pick<Calibration, 'a' | 'b'>, score: number): number {
  if (Number.isNaN(score)) throw new CalibrationError('score is NaN');
  // a·∞ is ±∞ by the slope's sign, which the schema ties to the direction.
  return calibration.a * score + calibration.b;
}
