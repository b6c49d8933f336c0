// The session's running belief that the enrolled person is still wearing the headset: an
// exponentially weighted mean of the windows' log-likelihood ratios, in stream time.
import type { ContinuousPolicy } from './continuous-policy.js';

export type EndReason = 'low_confidence' | 'unusable_signal';

export interface ConfidenceStep {
  readonly confidence: number;
  readonly end?: EndReason;
}

/**
 * Starts at the sign-in probe's LLR (the evidence the session was opened on). A scored window at
 * stream time t moves it to w·c + (1 − w)·llr with w = ½^((t − t_prev) / halfLife), t_prev the
 * previous scored window (or the start): time without a score makes old evidence count less, not
 * more. `windowsBelowFloor` scored windows in a row below the floor end the session. An artefact
 * window moves nothing and neither extends nor breaks that run; `rejectedWindowsTolerated` of them
 * in a row are tolerated, one more ends the session.
 */
export class RunningConfidence {
  private value: number;
  private lastScoredAt = 0;
  private below = 0;
  private rejected = 0;

  constructor(
    private readonly policy: Pick<ContinuousPolicy, 'halfLifeSeconds' | 'floor' | 'windowsBelowFloor' | 'rejectedWindowsTolerated'>,
    initialLlr: number,
    /** Stream time of the start (0 for a new stream). */
    startSeconds = 0,
  ) {
    if (!Number.isFinite(initialLlr)) throw new RangeError('the initial LLR must be finite');
    this.value = initialLlr;
    this.lastScoredAt = startSeconds;
  }

  get confidence(): number {
    return this.value;
  }

  /** A scored window ending at `atSeconds` with log-likelihood ratio `llr`. */
  scored(atSeconds: number, llr: number): ConfidenceStep {
    const weight = 0.5 ** (Math.max(0, atSeconds - this.lastScoredAt) / this.policy.halfLifeSeconds);
    this.value = weight * this.value + (1 - weight) * llr;
    this.lastScoredAt = atSeconds;
    this.rejected = 0;
    this.below = this.value < this.policy.floor ? this.below + 1 : 0;
    return this.below >= this.policy.windowsBelowFloor ? { confidence: this.value, end: 'low_confidence' } : { confidence: this.value };
  }

  /** A window that could not be scored (artefact, bad contact). */
  rejectedWindow(): ConfidenceStep {
    this.rejected++;
    return this.rejected > this.policy.rejectedWindowsTolerated ? { confidence: this.value, end: 'unusable_signal' } : { confidence: this.value };
  }
}
