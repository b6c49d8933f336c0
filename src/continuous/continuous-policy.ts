// How a continuous-verification session judges its stream. The defaults were chosen by
// `npm run eval:continuous` (models/neural.md, "Continuous verification").
import type { WindowTiming } from './window-buffer.js';

export interface ContinuousPolicy extends WindowTiming {
  /** Windows of this many seconds (whole; the model was trained on 10 s) … */
  readonly windowSeconds: number;
  /** … one every this many seconds of stream time (whole). */
  readonly hopSeconds: number;
  /** Stream time after which a window's LLR weighs half in the running confidence. */
  readonly halfLifeSeconds: number;
  /** Running confidence (natural-log LLR) below which a window counts against the session. */
  readonly floor: number;
  /** Consecutive scored windows below the floor that end the session (`low_confidence`). */
  readonly windowsBelowFloor: number;
  /**
   * Consecutive artefact windows tolerated; one more ends the session (`unusable_signal`): a
   * stream of nothing but blinks, movement or a loose electrode must not hold a session open.
   */
  readonly rejectedWindowsTolerated: number;
  /** For the transport: no frame for this long ends the stream (close code 4408). */
  readonly silenceSeconds: number;
}

/**
 * Window, half-life, floor and K: the rule of eval:continuous (no false end of a genuine stream,
 * then the most impostor streams ended within 10 s) over all five out-of-fold folds: 8 s windows
 * every second, a 1 s half-life, floor −6 (cosine 0.114 with the v2 calibration) and a single window
 * below it. Genuine task-run windows dip that low against a resting template, so a higher floor or
 * shorter windows ended genuine sessions. The artefact tolerance (30 windows, 30 s) and the silence
 * limit are judgement, not measured: eegmat is cleaned and never stops (1.5% of windows rejected).
 */
export const DEFAULT_CONTINUOUS_POLICY: ContinuousPolicy = {
  windowSeconds: 8,
  hopSeconds: 2,
  halfLifeSeconds: 1,
  floor: -6,
  windowsBelowFloor: 1,
  rejectedWindowsTolerated: 30,
  silenceSeconds: 10,
};

/** The policy's problems, for configuration to report; empty when it is usable. */
export function policyProblems(p: ContinuousPolicy): string[] {
  const problems: string[] = [];
  const whole = (name: keyof ContinuousPolicy, min: number, max: number) => {
    const v = p[name];
    if (!Number.isInteger(v) || v < min || v > max) problems.push(`${name} must be a whole number from ${min} to ${max}`);
  };
  whole('windowSeconds', 2, 60);
  whole('hopSeconds', 1, 60);
  whole('windowsBelowFloor', 1, 1000);
  whole('rejectedWindowsTolerated', 0, 100_000);
  if (!(p.halfLifeSeconds > 0 && p.halfLifeSeconds <= 3600)) problems.push('halfLifeSeconds must be above 0 and at most 3600');
  if (!Number.isFinite(p.floor)) problems.push('floor must be a finite LLR');
  if (!(p.silenceSeconds > 0 && p.silenceSeconds <= 3600)) problems.push('silenceSeconds must be above 0 and at most 3600');
  return problems;
}
