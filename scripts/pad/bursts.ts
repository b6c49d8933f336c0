// Burst-level PAD figures: consecutive frames of one capture sequence stand in for a sign-in
// burst, scored with the server's rule (the mean) and, for comparison, the strictest rule (every
// frame must pass, i.e. the minimum).
import { burstPadScore } from '../../src/steps/face/presentation-attack.js';
import type { Scored } from './metrics.js';

export const BURST_FRAMES = 5;

export const BURST_RULES = {
  mean: burstPadScore,
  everyFrame: (scores: readonly number[]) => Math.min(...scores),
} as const;
export type BurstRule = keyof typeof BURST_RULES;

/** Scores of `examples` (with the same order as `scores`) grouped by clip, cut into whole bursts. */
export function burstScores(examples: ReadonlyArray<{ readonly clip: string }>, scores: readonly Scored[]): Record<BurstRule, Scored[]> {
  const clips = new Map<string, Scored[]>();
  examples.forEach((e, i) => clips.set(e.clip, [...(clips.get(e.clip) ?? []), scores[i]!]));
  const bursts: Scored[][] = [];
  for (const frames of clips.values()) {
    for (let start = 0; start + BURST_FRAMES <= frames.length; start += BURST_FRAMES) bursts.push(frames.slice(start, start + BURST_FRAMES));
  }
  const rule = (r: BurstRule) => bursts.map((b) => ({ kind: b[0]!.kind, score: BURST_RULES[r](b.map((s) => s.score)) }));
  return { mean: rule('mean'), everyFrame: rule('everyFrame') };
}
