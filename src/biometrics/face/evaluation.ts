// Verification error rates from genuine and impostor distance scores (lower distance = more alike).

export interface ErrorRates {
  readonly threshold: number;
  /** Impostor pairs accepted (distance ≤ threshold) over all impostor pairs. */
  readonly far: number;
  /** Genuine pairs rejected (distance > threshold) over all genuine pairs. */
  readonly frr: number;
}

/** Scores sorted ascending; pairs whose face could not be acquired score +Infinity (never accepted). */
export class ScoreSet {
  readonly genuine: Float64Array;
  readonly impostor: Float64Array;

  constructor(genuine: Iterable<number>, impostor: Iterable<number>) {
    this.genuine = Float64Array.from(genuine).sort();
    this.impostor = Float64Array.from(impostor).sort();
    if (this.genuine.length === 0 || this.impostor.length === 0) throw new Error('need at least one genuine and one impostor pair');
  }

  at(threshold: number): ErrorRates {
    return {
      threshold,
      far: countAtMost(this.impostor, threshold) / this.impostor.length,
      frr: (this.genuine.length - countAtMost(this.genuine, threshold)) / this.genuine.length,
    };
  }

  /** The operating point where FAR and FRR cross; EER is their mean there. */
  equalErrorRate(): ErrorRates & { eer: number } {
    let best = this.at(0);
    let bestGap = Infinity;
    for (const t of this.candidateThresholds()) {
      const r = this.at(t);
      const gap = Math.abs(r.far - r.frr);
      if (gap < bestGap) {
        best = r;
        bestGap = gap;
      }
    }
    return { ...best, eer: (best.far + best.frr) / 2 };
  }

  /** The lowest FRR whose FAR does not exceed `maxFar`. */
  frrAtFar(maxFar: number): ErrorRates {
    const allowed = Math.floor(maxFar * this.impostor.length);
    // Accept strictly fewer than allowed+1 impostors: the threshold sits just below the next one.
    const next = this.impostor[allowed];
    const threshold = next === undefined ? Infinity : previousFloat(next);
    return this.at(Number.isFinite(threshold) ? threshold : Number.MAX_VALUE);
  }

  private *candidateThresholds(): Iterable<number> {
    for (const v of this.genuine) if (Number.isFinite(v)) yield v;
    for (const v of this.impostor) {
      if (!Number.isFinite(v)) continue;
      yield v;
      yield previousFloat(v);
    }
  }
}

/** Number of values ≤ x in an ascending array. */
function countAtMost(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function previousFloat(x: number): number {
  return x - Math.max(Math.abs(x) * Number.EPSILON, Number.MIN_VALUE);
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('no values');
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
