import { timingSafeEqual } from 'node:crypto';
import type { Submission } from './replay-memory.js';
import type { SignalFingerprint } from './signal-fingerprint.js';
import { matchChunks } from './signal-match.js';

/**
 * `exact`: the same samples (keyed digest). `altered`: the signal of one earlier recording at one
 * alignment — shifted, rescaled, with noise added, channels reordered or resampled. `splice`:
 * parts of the probe come from different earlier recordings, or from one at different alignments.
 */
export type ReplayMatch = 'exact' | 'altered' | 'splice';

export type ReplayVerdict =
  | { replay: false; similarity: number }
  | { replay: true; match: ReplayMatch; of: Submission['kind']; similarity: number; seconds: number };

/**
 * Signal correlation at or above which a probe chunk is a copy: between the highest fresh
 * recording (0.71) and the lowest attack (0.86) that `eval:neural-replay` measured on eegmat.
 */
export const DEFAULT_REPLAY_SIMILARITY = 0.82;

// Two matched chunks belong to one copy when their alignments differ by at most this much.
const SAME_ALIGNMENT_SECONDS = 0.07;

/** A matched chunk in seconds, whichever band found it. */
interface Found {
  source: number;
  probeStart: number;
  seconds: number;
  offset: number;
  score: number;
}

/** Distinct copies among the matched chunks: same remembered recording and (nearly) the same offset. */
function copies(found: readonly Found[]): number {
  const seen: Found[] = [];
  for (const f of found) if (!seen.some((s) => s.source === f.source && Math.abs(s.offset - f.offset) <= SAME_ALIGNMENT_SECONDS)) seen.push(f);
  return seen.length;
}

/** How much of the probe the matched chunks cover, in seconds. */
function coveredSeconds(found: readonly Found[]): number {
  let covered = 0;
  let until = -Infinity;
  for (const f of [...found].sort((a, b) => a.probeStart - b.probeStart)) {
    covered += Math.max(0, f.probeStart + f.seconds - Math.max(f.probeStart, until));
    until = Math.max(until, f.probeStart + f.seconds);
  }
  return Math.round(covered * 10) / 10;
}

const durationOf = (f: SignalFingerprint) => (f.bands[0]?.channels[0]?.length ?? 0) / (f.bands[0]?.rate ?? 1);

/**
 * Is this recording one the account has submitted before? First exactly (digest), then by its
 * signal, band by band: a probe chunk whose channels correlate with an earlier recording's at
 * `threshold` or more is a copy (fresh recordings of the same person stay far below; see
 * models/neural.md).
 */
export function findReplay(digest: string, fingerprint: SignalFingerprint, previous: readonly Submission[], threshold: number): ReplayVerdict {
  const wanted = Buffer.from(digest, 'hex');
  for (const earlier of previous) {
    const stored = Buffer.from(earlier.digest, 'hex');
    if (stored.length === wanted.length && timingSafeEqual(stored, wanted)) return { replay: true, match: 'exact', of: earlier.kind, similarity: 1, seconds: durationOf(fingerprint) };
  }
  const remembered = previous.filter((s): s is Submission & { fingerprint: SignalFingerprint } => s.fingerprint !== undefined);
  const found: Found[] = fingerprint.bands.flatMap((band, b) =>
    matchChunks(band, remembered.map((s) => s.fingerprint.bands[b] ?? { rate: band.rate, channels: [], channelSum: new Int16Array(0) })).map((m) => ({
      source: m.source,
      probeStart: m.probeStart / band.rate,
      seconds: m.length / band.rate,
      offset: (m.sourceStart - m.probeStart) / band.rate,
      score: m.score,
    })),
  );
  const similarity = Math.max(0, ...found.map((m) => m.score));
  const copied = found.filter((m) => m.score >= threshold);
  if (copied.length === 0) return { replay: false, similarity };
  const best = copied.reduce((a, b) => (b.score > a.score ? b : a));
  return { replay: true, match: copies(copied) > 1 ? 'splice' : 'altered', of: remembered[best.source]!.kind, similarity, seconds: coveredSeconds(copied) };
}
