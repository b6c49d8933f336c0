import { timingSafeEqual } from 'node:crypto';
import type { Submission } from './replay-memory.js';
import type { SignalFingerprint } from './signal-fingerprint.js';
import { matchChunks, type ChunkMatch } from './signal-match.js';

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
export const DEFAULT_REPLAY_SIMILARITY = 0.78;

// Two matched chunks belong to one copy when their alignments differ by at most this many samples.
const SAME_ALIGNMENT_SAMPLES = 2;

/** Distinct copies among the matched chunks: same remembered recording and (nearly) the same offset. */
function copies(matches: readonly ChunkMatch[]): number {
  const seen: { source: number; offset: number }[] = [];
  for (const m of matches) {
    const offset = m.sourceStart - m.probeStart;
    if (!seen.some((s) => s.source === m.source && Math.abs(s.offset - offset) <= SAME_ALIGNMENT_SAMPLES)) seen.push({ source: m.source, offset });
  }
  return seen.length;
}

/**
 * Is this recording one the account has submitted before? First exactly (digest), then by its
 * signal: a probe chunk whose channels correlate with an earlier recording's at `threshold` or
 * more is a copy (fresh recordings of the same person stay far below; see models/neural.md).
 */
export function findReplay(digest: string, fingerprint: SignalFingerprint, previous: readonly Submission[], threshold: number): ReplayVerdict {
  const wanted = Buffer.from(digest, 'hex');
  for (const earlier of previous) {
    const stored = Buffer.from(earlier.digest, 'hex');
    if (stored.length === wanted.length && timingSafeEqual(stored, wanted)) return { replay: true, match: 'exact', of: earlier.kind, similarity: 1, seconds: durationOf(fingerprint) };
  }
  const remembered = previous.filter((s): s is Submission & { fingerprint: SignalFingerprint } => s.fingerprint !== undefined);
  const matches = matchChunks(fingerprint, remembered.map((s) => s.fingerprint));
  const similarity = Math.max(0, ...matches.map((m) => m.score));
  const copied = matches.filter((m) => m.score >= threshold);
  if (copied.length === 0) return { replay: false, similarity };
  const best = copied.reduce((a, b) => (b.score > a.score ? b : a));
  return {
    replay: true,
    match: copies(copied) > 1 ? 'splice' : 'altered',
    of: remembered[best.source]!.kind,
    similarity,
    seconds: copiedSeconds(copied, fingerprint.rate),
  };
}

const durationOf = (f: SignalFingerprint) => (f.channels[0]?.length ?? 0) / f.rate;

/** How much of the probe the matched chunks cover, in seconds. */
function copiedSeconds(matches: readonly ChunkMatch[], rate: number): number {
  const spans = matches.map((m) => m.probeStart).sort((a, b) => a - b);
  const chunk = matches[0]!.length;
  let covered = 0;
  let until = -Infinity;
  for (const start of spans) {
    covered += Math.max(0, start + chunk - Math.max(start, until));
    until = Math.max(until, start + chunk);
  }
  return Math.round((covered / rate) * 10) / 10;
}
