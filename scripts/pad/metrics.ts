// ISO/IEC 30107-3 error rates of a PAD subsystem: a presentation is accepted as bona fide when its
// score reaches the threshold. APCER is counted per attack species (PAI species), BPCER over
// bona-fide presentations; ACER is (worst-species APCER + BPCER) / 2.
import { BONA_FIDE } from './dataset.js';

export interface Scored {
  readonly kind: string;
  readonly score: number;
}

export interface PadErrorRates {
  readonly threshold: number;
  readonly apcer: Record<string, number>;
  readonly worstApcer: number;
  readonly bpcer: number;
  readonly acer: number;
}

const ratio = (hits: number, total: number) => (total === 0 ? Number.NaN : hits / total);

export function errorRates(scored: readonly Scored[], threshold: number): PadErrorRates {
  const bona = scored.filter((s) => s.kind === BONA_FIDE);
  const species = [...new Set(scored.map((s) => s.kind).filter((k) => k !== BONA_FIDE))].sort();
  const apcer = Object.fromEntries(species.map((k) => {
    const attacks = scored.filter((s) => s.kind === k);
    return [k, ratio(attacks.filter((s) => s.score >= threshold).length, attacks.length)];
  }));
  const worstApcer = Math.max(...Object.values(apcer));
  const bpcer = ratio(bona.filter((s) => s.score < threshold).length, bona.length);
  return { threshold, apcer, worstApcer, bpcer, acer: (worstApcer + bpcer) / 2 };
}

/** The highest threshold whose BPCER does not exceed `target` (rejects at most that share of bona-fide presentations). */
export function thresholdAtBpcer(scored: readonly Scored[], target: number): number {
  const bona = scored.filter((s) => s.kind === BONA_FIDE).map((s) => s.score).sort((a, b) => a - b);
  return bona[Math.floor(target * bona.length)]!;
}

/** Worst-species APCER with the threshold set for a BPCER of at most `target`. */
export function apcerAtBpcer(scored: readonly Scored[], target: number): { bpcer: number; apcer: Record<string, number>; worstApcer: number; threshold: number } {
  const rates = errorRates(scored, thresholdAtBpcer(scored, target));
  return { bpcer: rates.bpcer, apcer: rates.apcer, worstApcer: rates.worstApcer, threshold: rates.threshold };
}
