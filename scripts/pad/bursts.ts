// Burst-level PAD figures: consecutive frames of one capture sequence stand in for a sign-in
// burst, of the sizes the capture page sends (one, two — the default — or three movements),
// scored with the server's rule (the mean) and, for comparison, the strictest rule (every frame
// must pass, i.e. the minimum).
import { burstFrames } from '../../src/steps/face/burst.js';
import { burstPadScore } from '../../src/steps/face/presentation-attack.js';
import type { Scored } from './metrics.js';

export const BURST_SIZES = { oneMovement: burstFrames(1), twoMovements: burstFrames(2), threeMovements: burstFrames(3) } as const;
export type BurstSize = keyof typeof BURST_SIZES;

export const BURST_RULES = {
  mean: burstPadScore,
  everyFrame: (scores: readonly number[]) => Math.min(...scores),
} as const;
export type BurstRule = keyof typeof BURST_RULES;

export type BurstScores = Record<BurstSize, Record<BurstRule, Scored[]>>;

/** Scores of `examples` (with the same order as `scores`) grouped by clip, cut into whole bursts of each size. */
export function burstScores(examples: ReadonlyArray<{ readonly clip: string }>, scores: readonly Scored[]): BurstScores {
  const clips = new Map<string, Scored[]>();
  examples.forEach((e, i) => clips.set(e.clip, [...(clips.get(e.clip) ?? []), scores[i]!]));
  const ofSize = (size: number) => {
    const bursts: Scored[][] = [];
    for (const frames of clips.values()) {
      for (let start = 0; start + size <= frames.length; start += size) bursts.push(frames.slice(start, start + size));
    }
    const rule = (r: BurstRule) => bursts.map((b) => ({ kind: b[0]!.kind, score: BURST_RULES[r](b.map((s) => s.score)) }));
    return { mean: rule('mean'), everyFrame: rule('everyFrame') };
  };
  return { oneMovement: ofSize(BURST_SIZES.oneMovement), twoMovements: ofSize(BURST_SIZES.twoMovements), threeMovements: ofSize(BURST_SIZES.threeMovements) };
}
