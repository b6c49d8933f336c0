import { fft } from '../../biometrics/neural/spectrum.js';
import type { FingerprintBand } from './signal-fingerprint.js';

/**
 * Where a probe's signal reappears in earlier recordings. The probe is cut into short chunks;
 * each chunk is slid over every remembered recording at every lag (FFT cross-correlation of the
 * channel sums, which a channel reorder does not change), and the best lags are confirmed
 * channel by channel, each probe channel against its best-matching remembered channel.
 */
export interface ChunkMatch {
  /** Where the chunk starts in the probe, in samples at the band's rate. */
  probeStart: number;
  /** Its length in samples. */
  length: number;
  /** Index of the remembered recording in the memory passed in. */
  source: number;
  /** Where the chunk lies in that recording, in samples. */
  sourceStart: number;
  /** Mean over probe channels of the best normalised correlation with a remembered channel. */
  score: number;
}

// Chunks of 4 s, back to back, and one ending at the probe's end: a splice of two parts always has
// one part holding a whole chunk.
const CHUNK_SECONDS = 4;
const HOP_SECONDS = 4;
// Lags kept per chunk from the channel-sum search for the channel-by-channel confirmation.
const CANDIDATES_PER_CHUNK = 3;

interface Candidate {
  source: number;
  start: number;
  ncc: number;
}

/** Running sums of squares: energy of x[a, b) = sums[b] − sums[a]. */
function squareSums(x: Float64Array): Float64Array {
  const out = new Float64Array(x.length + 1);
  for (let i = 0; i < x.length; i++) out[i + 1] = (out[i] as number) + (x[i] as number) ** 2;
  return out;
}

/** Chunk starts covering the probe: every hop, and one ending at the probe's end. */
function chunkStarts(length: number, chunk: number, hop: number): number[] {
  if (length < chunk) return [];
  const starts: number[] = [];
  for (let s = 0; s + chunk <= length; s += hop) starts.push(s);
  if (starts.at(-1)! + chunk < length) starts.push(length - chunk);
  return starts;
}

/** Keeps the best `limit` candidates, one per peak (neighbouring lags of one source count once). */
function keep(list: Candidate[], c: Candidate, limit: number): void {
  const near = list.findIndex((o) => o.source === c.source && Math.abs(o.start - c.start) <= 2);
  if (near >= 0) {
    if (list[near]!.ncc < c.ncc) list[near] = c;
  } else if (list.length < limit) list.push(c);
  else {
    let worst = 0;
    for (let i = 1; i < list.length; i++) if (list[i]!.ncc < list[worst]!.ncc) worst = i;
    if (list[worst]!.ncc < c.ncc) list[worst] = c;
    else return;
  }
}

/** Real signals' spectra at the FFT size, with their norms, for the correlation search. */
function chunkSpectra(chunks: readonly Float64Array[], size: number) {
  return chunks.map((x) => {
    const re = new Float64Array(size);
    const im = new Float64Array(size);
    re.set(x);
    fft(re, im);
    let norm = 0;
    for (const v of x) norm += v * v;
    return { re, im, norm: Math.sqrt(norm) };
  });
}

/**
 * The remembered recordings' channel sums one after the other, so that the search runs over full
 * FFT blocks; `owner[i]` is the recording sample i comes from and `offset[j]` where recording j starts.
 */
function concatenatedSums(memory: readonly FingerprintBand[], rate: number, chunk: number) {
  const usable = memory.map((m, j) => ({ m, j })).filter(({ m }) => m.rate === rate && m.channelSum.length >= chunk);
  const total = usable.reduce((n, { m }) => n + m.channelSum.length, 0);
  const signal = new Float64Array(total);
  const owner = new Int32Array(total);
  const offset = new Map<number, number>();
  let at = 0;
  for (const { m, j } of usable) {
    signal.set(m.channelSum, at);
    owner.fill(j, at, at + m.channelSum.length);
    offset.set(j, at);
    at += m.channelSum.length;
  }
  return { signal, owner, offset };
}

/**
 * Normalised cross-correlation of every chunk with the concatenated memory at every lag, by
 * overlap-save FFT: two blocks per complex transform (real and imaginary part), one inverse per
 * chunk. Lags whose window crosses from one remembered recording into the next are skipped.
 */
function searchSums(chunks: readonly Float64Array[], memory: Float64Array, owner: Int32Array, chunk: number, found: Candidate[][]): void {
  // Four chunk lengths (rounded up to a power of two): three quarters of each block are new lags.
  const fftSize = 4 * 2 ** Math.ceil(Math.log2(chunk));
  const step = fftSize - chunk + 1;
  const lags = memory.length - chunk + 1;
  const energy = squareSums(memory);
  // 1 / norm of the memory under each lag's window; 0 where the window crosses into the next recording.
  const inverseNorm = new Float64Array(lags);
  for (let l = 0; l < lags; l++) {
    const e = (energy[l + chunk] as number) - (energy[l] as number);
    inverseNorm[l] = owner[l] === owner[l + chunk - 1] && e > 0 ? 1 / Math.sqrt(e) : 0;
  }
  const spectra = chunkSpectra(chunks, fftSize);
  const ur = new Float64Array(fftSize);
  const ui = new Float64Array(fftSize);
  const yr = new Float64Array(fftSize);
  const yi = new Float64Array(fftSize);
  for (let first = 0; first < lags; first += 2 * step) {
    const second = first + step;
    ur.fill(0);
    ui.fill(0);
    ur.set(memory.subarray(first, Math.min(memory.length, first + fftSize)));
    if (second < lags) ui.set(memory.subarray(second, Math.min(memory.length, second + fftSize)));
    fft(ur, ui);
    spectra.forEach((x, k) => {
      if (x.norm === 0) return;
      // IFFT(U · conj X) = conj(FFT(conj(U) · X)) / N: the real part is the first block's
      // correlation, minus the imaginary part the second's.
      for (let f = 0; f < fftSize; f++) {
        const a = ur[f] as number;
        const b = -(ui[f] as number);
        const c = x.re[f] as number;
        const d = x.im[f] as number;
        yr[f] = a * c - b * d;
        yi[f] = a * d + b * c;
      }
      fft(yr, yi);
      const list = found[k]!;
      let floor = list.length < CANDIDATES_PER_CHUNK ? -Infinity : list[list.length - 1]!.ncc;
      for (let block = 0; block < 2; block++) {
        const offset = block === 0 ? first : second;
        const part = block === 0 ? yr : yi;
        const scale = (block === 0 ? 1 : -1) / (fftSize * x.norm);
        const end = Math.min(step, lags - offset);
        for (let l = 0; l < end; l++) {
          const start = offset + l;
          const ncc = (part[l] as number) * scale * (inverseNorm[start] as number);
          if (ncc > floor) {
            keep(list, { source: owner[start] as number, start, ncc }, CANDIDATES_PER_CHUNK);
            list.sort((p, q) => q.ncc - p.ncc);
            floor = list.length < CANDIDATES_PER_CHUNK ? -Infinity : list[list.length - 1]!.ncc;
          }
        }
      }
    });
  }
}

function norm(x: Int8Array, start: number, length: number): number {
  let e = 0;
  for (let i = start; i < start + length; i++) e += (x[i] as number) ** 2;
  return Math.sqrt(e);
}

function dot(p: Int8Array, ps: number, s: Int8Array, ss: number, length: number): number {
  let sum = 0;
  for (let i = 0; i < length; i++) sum += (p[ps + i] as number) * (s[ss + i] as number);
  return sum;
}

/**
 * Channel-by-channel confirmation of a candidate alignment: each probe channel is paired with the
 * remembered channel it correlates with best there (a reorder does not hide a copy), and the mean
 * of those correlations is also taken one lag either side. A copy shifted by a fraction of a
 * sample peaks between two lags; the peak is read off a parabola through the three.
 */
function confirm(probe: FingerprintBand, probeStart: number, source: FingerprintBand, sourceStart: number, chunk: number): number {
  const length = source.channels[0]!.length;
  const lags = [sourceStart - 1, sourceStart, sourceStart + 1].map((l) => Math.min(Math.max(l, 0), length - chunk));
  const norms = lags.map((l) => source.channels.map((s) => norm(s, l, chunk)));
  const totals = [0, 0, 0];
  for (const p of probe.channels) {
    const pn = norm(p, probeStart, chunk);
    if (pn === 0) continue;
    let pair = 0;
    let best = -Infinity;
    source.channels.forEach((s, d) => {
      const sn = norms[1]![d]!;
      const r = sn > 0 ? dot(p, probeStart, s, sourceStart, chunk) / (pn * sn) : 0;
      if (r > best) [best, pair] = [r, d];
    });
    totals[1]! += best;
    for (const i of [0, 2]) {
      const sn = norms[i]![pair]!;
      totals[i]! += sn > 0 ? dot(p, probeStart, source.channels[pair]!, lags[i]!, chunk) / (pn * sn) : 0;
    }
  }
  const [before, at, after] = totals.map((t) => t / (probe.channels.length || 1)) as [number, number, number];
  if (at < before || at < after) return Math.max(before, after);
  const curvature = before - 2 * at + after;
  const peak = curvature < 0 ? at - (before - after) ** 2 / (8 * curvature) : at;
  return Math.min(1, peak);
}

/** The best confirmed alignment of each probe chunk in `memory`, one band of the fingerprints (chunks with no candidate are left out). */
export function matchChunks(probe: FingerprintBand, memory: readonly FingerprintBand[]): ChunkMatch[] {
  const chunk = Math.round(CHUNK_SECONDS * probe.rate);
  const sum = Float64Array.from(probe.channelSum);
  const starts = chunkStarts(sum.length, chunk, Math.round(HOP_SECONDS * probe.rate));
  const chunks = starts.map((s) => sum.subarray(s, s + chunk));
  const found: Candidate[][] = starts.map(() => []);
  const { signal, owner, offset } = concatenatedSums(memory, probe.rate, chunk);
  if (signal.length >= chunk) searchSums(chunks, signal, owner, chunk, found);
  const out: ChunkMatch[] = [];
  starts.forEach((probeStart, k) => {
    let best: ChunkMatch | undefined;
    for (const c of found[k]!) {
      const source = memory[c.source]!;
      const sourceStart = c.start - offset.get(c.source)!;
      const score = confirm(probe, probeStart, source, sourceStart, chunk);
      if (!best || score > best.score) best = { probeStart, length: chunk, source: c.source, sourceStart, score };
    }
    if (best) out.push(best);
  });
  return out;
}
