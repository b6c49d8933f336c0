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
 * The search's long arrays, reused from one verification to the next (grown when a memory is
 * longer). Allocated afresh for every verification, their megabytes put a garbage collection into
 * a quarter of the checks of a profiling loop; reused, into a tenth. Matching is synchronous, so
 * one set serves a thread.
 */
const scratch: { signal: Float64Array; owner: Int32Array; inverseNorm: Float64Array } = { signal: new Float64Array(0), owner: new Int32Array(0), inverseNorm: new Float64Array(0) };

function reused<K extends keyof typeof scratch>(name: K, length: number, make: (n: number) => (typeof scratch)[K]): (typeof scratch)[K] {
  if (scratch[name].length < length) scratch[name] = make(length);
  return scratch[name].subarray(0, length) as (typeof scratch)[K];
}

/**
 * The remembered recordings' channel sums one after the other, so that the search runs over full
 * FFT blocks; `owner[i]` is the recording sample i comes from and `offset[j]` where recording j starts.
 */
function concatenatedSums(memory: readonly FingerprintBand[], rate: number, chunk: number) {
  const usable = memory.map((m, j) => ({ m, j })).filter(({ m }) => m.rate === rate && m.channelSum.length >= chunk);
  const total = usable.reduce((n, { m }) => n + m.channelSum.length, 0);
  const signal = reused('signal', total, (n) => new Float64Array(n));
  const owner = reused('owner', total, (n) => new Int32Array(n));
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
  // 1 / norm of the memory under each lag's window; 0 where the window crosses into the next recording.
  // The window's energy slides along: channel sums are integers and every partial sum stays below 2^53, so this is exact.
  const inverseNorm = reused('inverseNorm', lags, (n) => new Float64Array(n));
  let energy = 0;
  for (let i = 0; i < chunk - 1; i++) energy += (memory[i] as number) ** 2;
  for (let l = 0; l < lags; l++) {
    energy += (memory[l + chunk - 1] as number) ** 2;
    inverseNorm[l] = owner[l] === owner[l + chunk - 1] && energy > 0 ? 1 / Math.sqrt(energy) : 0;
    energy -= (memory[l] as number) ** 2;
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
    // Plain loops, no closures: this is the hot path.
    for (let k = 0; k < spectra.length; k++) {
      const { re, im, norm } = spectra[k]!;
      if (norm === 0) continue;
      // IFFT(U · conj X) = conj(FFT(conj(U) · X)) / N: the real part is the first block's
      // correlation, minus the imaginary part the second's.
      for (let f = 0; f < fftSize; f++) {
        const a = ur[f] as number;
        const b = -(ui[f] as number);
        const c = re[f] as number;
        const d = im[f] as number;
        yr[f] = a * c - b * d;
        yi[f] = a * d + b * c;
      }
      fft(yr, yi);
      const scale = 1 / (fftSize * norm);
      offer(found[k]!, yr, first, Math.min(step, lags - first), scale, inverseNorm, owner);
      offer(found[k]!, yi, second, Math.min(step, lags - second), -scale, inverseNorm, owner);
    }
  }
}

/** Offers the lags [offset, offset + count) of one block's correlation (times `scale`) to a chunk's candidates. */
function offer(list: Candidate[], correlation: Float64Array, offset: number, count: number, scale: number, inverseNorm: Float64Array, owner: Int32Array): void {
  let floor = list.length < CANDIDATES_PER_CHUNK ? -Infinity : list[list.length - 1]!.ncc;
  for (let l = 0; l < count; l++) {
    const start = offset + l;
    const ncc = (correlation[l] as number) * scale * (inverseNorm[start] as number);
    if (ncc > floor) {
      keep(list, { source: owner[start] as number, start, ncc }, CANDIDATES_PER_CHUNK);
      list.sort((p, q) => q.ncc - p.ncc);
      floor = list.length < CANDIDATES_PER_CHUNK ? -Infinity : list[list.length - 1]!.ncc;
    }
  }
}

// Energies and dot products of int8 windows are exact in 32-bit integers: |sum| ≤ 127² × length, and a
// chunk is at most 4 s × 255 Hz.
function energy(x: Int8Array, start: number, length: number): number {
  let e = 0;
  for (let i = start; i < start + length; i++) e = (e + (x[i] as number) * (x[i] as number)) | 0;
  return e;
}

/** The energy `e` of the window at `from` moved to the window at `to`, at most one sample away. */
function energyMoved(e: number, x: Int8Array, from: number, to: number, length: number): number {
  if (to < from) return e + (x[to] as number) ** 2 - (x[from + length - 1] as number) ** 2;
  if (to > from) return e - (x[from] as number) ** 2 + (x[to + length - 1] as number) ** 2;
  return e;
}

function dot(p: Int8Array, ps: number, s: Int8Array, ss: number, length: number): number {
  let sum = 0;
  for (let i = 0; i < length; i++) sum = (sum + (p[ps + i] as number) * (s[ss + i] as number)) | 0;
  return sum;
}

/**
 * The dot products of one probe window with every channel's window at `ss`, into `out` (its
 * length rounded up to four). Four channels per pass, so each probe sample is loaded once for four
 * products: pairing every probe channel with every remembered one is most of the confirmation's
 * work. The last pass repeats its first channel where fewer than four are left.
 */
function dots(p: Int8Array, ps: number, channels: readonly Int8Array[], ss: number, length: number, out: Int32Array): void {
  for (let d = 0; d < channels.length; d += 4) {
    const s0 = channels[d]!;
    const s1 = channels[d + 1] ?? s0;
    const s2 = channels[d + 2] ?? s0;
    const s3 = channels[d + 3] ?? s0;
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    for (let i = 0; i < length; i++) {
      const v = p[ps + i] as number;
      const j = ss + i;
      a0 = (a0 + v * (s0[j] as number)) | 0;
      a1 = (a1 + v * (s1[j] as number)) | 0;
      a2 = (a2 + v * (s2[j] as number)) | 0;
      a3 = (a3 + v * (s3[j] as number)) | 0;
    }
    out[d] = a0;
    out[d + 1] = a1;
    out[d + 2] = a2;
    out[d + 3] = a3;
  }
}

/**
 * Channel-by-channel confirmation of a candidate alignment: each probe channel is paired with the
 * remembered channel it correlates with best there (a reorder does not hide a copy), and the mean
 * of those correlations is also taken one lag either side. A copy shifted by a fraction of a
 * sample peaks between two lags; the peak is read off a parabola through the three.
 */
function confirm(probe: FingerprintBand, probeStart: number, probeNorms: Float64Array, source: FingerprintBand, sourceStart: number, chunk: number): number {
  const length = source.channels[0]!.length;
  const lags = [sourceStart - 1, sourceStart, sourceStart + 1].map((l) => Math.min(Math.max(l, 0), length - chunk));
  const energies = source.channels.map((s) => energy(s, sourceStart, chunk));
  const norms = lags.map((l) => source.channels.map((s, d) => Math.sqrt(energyMoved(energies[d]!, s, sourceStart, l, chunk))));
  const totals = [0, 0, 0];
  const products = new Int32Array(Math.ceil(source.channels.length / 4) * 4);
  for (let c = 0; c < probe.channels.length; c++) {
    const p = probe.channels[c]!;
    const pn = probeNorms[c]!;
    if (pn === 0) continue;
    dots(p, probeStart, source.channels, sourceStart, chunk, products);
    let pair = 0;
    let best = -Infinity;
    for (let d = 0; d < source.channels.length; d++) {
      const sn = norms[1]![d]!;
      const r = sn > 0 ? products[d]! / (pn * sn) : 0;
      if (r > best) {
        best = r;
        pair = d;
      }
    }
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
    const probeNorms = Float64Array.from(probe.channels, (p) => Math.sqrt(energy(p, probeStart, chunk)));
    for (const c of found[k]!) {
      const source = memory[c.source]!;
      const sourceStart = c.start - offset.get(c.source)!;
      const score = confirm(probe, probeStart, probeNorms, source, sourceStart, chunk);
      if (!best || score > best.score) best = { probeStart, length: chunk, source: c.source, sourceStart, score };
    }
    if (best) out.push(best);
  });
  return out;
}
