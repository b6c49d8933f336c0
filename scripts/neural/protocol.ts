/**
 * The verification protocol shared by training (validation metrics) and `eval:neural`:
 * enroll on the first minute of the resting run, probe with single 10 s windows from the
 * task run (cross-condition) and from resting windows starting 10 s after enrollment ends
 * (same-condition, never overlapping the enrollment windows).
 */
export const protocol = {
  windowSeconds: 10,
  enrollEndSeconds: 60,
  enrollStepSeconds: 5,
  sameConditionStartSeconds: 70,
  probeStepSeconds: 10,
} as const;

/** Start times of the 10 s windows used for enrollment, inside [0, enrollEndSeconds). */
export function enrollmentStarts(): number[] {
  const out: number[] = [];
  for (let t = 0; t + protocol.windowSeconds <= protocol.enrollEndSeconds; t += protocol.enrollStepSeconds) out.push(t);
  return out;
}

/** Non-overlapping probe window starts from `from` until the recording ends. */
export function probeStarts(durationSeconds: number, from: number): number[] {
  const out: number[] = [];
  for (let t = from; t + protocol.windowSeconds <= durationSeconds + 1e-9; t += protocol.probeStepSeconds) out.push(t);
  return out;
}

export interface SubjectEmbeddings {
  id: string;
  template: Float32Array;
  sameCondition: Float32Array[];
  crossCondition: Float32Array[];
}

export interface Trials {
  genuine: number[];
  impostor: number[];
}

export interface Metrics {
  genuineTrials: number;
  impostorTrials: number;
  /** Error rates at the model's calibrated threshold, when one is given. */
  atThreshold?: { threshold: number; far: number; frr: number };
  eer: number;
  eerThreshold: number;
  frrAtFar1: number;
  thresholdAtFar1: number;
}

export function trials(subjects: readonly SubjectEmbeddings[], condition: 'sameCondition' | 'crossCondition', score: (a: Float32Array, b: Float32Array) => number): Trials {
  const genuine: number[] = [];
  const impostor: number[] = [];
  for (const owner of subjects) {
    for (const probe of owner[condition]) {
      for (const claimed of subjects) {
        (claimed === owner ? genuine : impostor).push(score(claimed.template, probe));
      }
    }
  }
  return { genuine, impostor };
}

/** Fraction of `scores` at or above the threshold (accept = score ≥ threshold). */
function acceptRate(sortedAscending: readonly number[], threshold: number): number {
  let lo = 0;
  let hi = sortedAscending.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sortedAscending[mid] as number) < threshold) lo = mid + 1;
    else hi = mid;
  }
  return (sortedAscending.length - lo) / sortedAscending.length;
}

/**
 * EER (the mean of FAR and FRR where they cross, over every observed score as a candidate
 * threshold) and FRR at the lowest threshold whose FAR ≤ 1%.
 */
export function metrics({ genuine, impostor }: Trials, threshold?: number): Metrics {
  if (genuine.length === 0 || impostor.length === 0) throw new Error('metrics need genuine and impostor trials');
  const g = [...genuine].sort((a, b) => a - b);
  const imp = [...impostor].sort((a, b) => a - b);
  const candidates = [...new Set([...g, ...imp, Infinity])].sort((a, b) => a - b);
  let best = { gap: Infinity, eer: 1, threshold: 0 };
  let far1 = { frr: 1, threshold: Infinity };
  for (const t of candidates) {
    const far = acceptRate(imp, t);
    const frr = 1 - acceptRate(g, t);
    const gap = Math.abs(far - frr);
    if (gap < best.gap) best = { gap, eer: (far + frr) / 2, threshold: t };
    if (far <= 0.01 && far1.threshold === Infinity) far1 = { frr, threshold: t };
  }
  return {
    genuineTrials: genuine.length,
    impostorTrials: impostor.length,
    ...(threshold === undefined ? {} : { atThreshold: { threshold, far: acceptRate(imp, threshold), frr: 1 - acceptRate(g, threshold) } }),
    eer: best.eer,
    eerThreshold: best.threshold,
    frrAtFar1: far1.frr,
    thresholdAtFar1: far1.threshold,
  };
}

/**
 * Separation of genuine and impostor scores, (μg − μi) / √((σg² + σi²) / 2). Smooth where EER
 * on a handful of validation people is not (it is often exactly 0), so it ranks model sizes.
 */
export function dPrime({ genuine, impostor }: Trials): number {
  const stats = (x: readonly number[]): { mean: number; variance: number } => {
    const mean = x.reduce((a, b) => a + b, 0) / x.length;
    return { mean, variance: x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length };
  };
  const g = stats(genuine);
  const i = stats(impostor);
  return (g.mean - i.mean) / Math.sqrt((g.variance + i.variance) / 2);
}

/** The metrics as the evaluations print them: rates and thresholds to four decimals. */
export function roundedMetrics(m: Metrics): Metrics {
  const round = (x: number): number => Number(x.toFixed(4));
  return {
    ...m,
    ...(m.atThreshold === undefined ? {} : { atThreshold: { threshold: m.atThreshold.threshold, far: round(m.atThreshold.far), frr: round(m.atThreshold.frr) } }),
    eer: round(m.eer),
    eerThreshold: round(m.eerThreshold),
    frrAtFar1: round(m.frrAtFar1),
    thresholdAtFar1: round(m.thresholdAtFar1),
  };
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}
