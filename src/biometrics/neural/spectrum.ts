import { memoize } from './memo.js';

/** cos/sin of −2πk/n for k < n/2, computed once per FFT length. */
const twiddles = memoize(16, (n: number): { cos: Float64Array; sin: Float64Array } => {
  const half = n / 2;
  const t = { cos: new Float64Array(half), sin: new Float64Array(half) };
  for (let k = 0; k < half; k++) {
    t.cos[k] = Math.cos((-2 * Math.PI * k) / n);
    t.sin[k] = Math.sin((-2 * Math.PI * k) / n);
  }
  return t;
});

/** The index pairs (i, j), i < j, that the bit-reversal permutation of length n swaps, computed once per FFT length. */
const bitReversalSwaps = memoize(16, (n: number): Uint32Array => {
  const pairs: number[] = [];
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) pairs.push(i, j);
  }
  return Uint32Array.from(pairs);
});

/**
 * In-place iterative radix-2 complex FFT; `re.length` must be a power of two. The replay search
 * runs hundreds per verification, so the permutation comes from a table and the stages go two
 * per pass over the data (each element loaded and stored once for both: about twice as fast).
 * Every butterfly is the plain radix-2 one, so the results are the same to the bit.
 */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  if ((n & (n - 1)) !== 0) throw new RangeError(`FFT length ${n} is not a power of two`);
  const swaps = bitReversalSwaps(n);
  for (let s = 0; s < swaps.length; s += 2) {
    const i = swaps[s] as number;
    const j = swaps[s + 1] as number;
    const tr = re[i] as number;
    re[i] = re[j] as number;
    re[j] = tr;
    const ti = im[i] as number;
    im[i] = im[j] as number;
    im[j] = ti;
  }
  const { cos, sin } = twiddles(n);
  let size = 2;
  for (; 2 * size <= n; size <<= 2) twoStages(re, im, cos, sin, size);
  // An odd number of stages leaves the last one.
  if (size <= n) oneStage(re, im, cos, sin, size);
}

/** The stage joining blocks of size/2 into blocks of `size`. */
function oneStage(re: Float64Array, im: Float64Array, cos: Float64Array, sin: Float64Array, size: number): void {
  const n = re.length;
  const half = size >> 1;
  const stride = n / size;
  for (let k = 0; k < half; k++) {
    const wr = cos[k * stride] as number;
    const wi = sin[k * stride] as number;
    for (let a = k; a < n; a += size) {
      const b = a + half;
      const br = re[b] as number;
      const bi = im[b] as number;
      const tr = wr * br - wi * bi;
      const ti = wr * bi + wi * br;
      const ar = re[a] as number;
      const ai = im[a] as number;
      re[b] = ar - tr;
      im[b] = ai - ti;
      re[a] = ar + tr;
      im[a] = ai + ti;
    }
  }
}

/**
 * The stages of `size` and 2·size in one pass: per quadruple a0 < a1 < a2 < a3 (a quarter of
 * 2·size apart), first (a0, a1) and (a2, a3) with twiddle w, then (a0, a2) with v and (a1, a3) with x.
 */
function twoStages(re: Float64Array, im: Float64Array, cos: Float64Array, sin: Float64Array, size: number): void {
  const n = re.length;
  const half = size >> 1;
  const stride = n / size;
  const next = stride >> 1;
  for (let k = 0; k < half; k++) {
    const wr = cos[k * stride] as number;
    const wi = sin[k * stride] as number;
    const vr = cos[k * next] as number;
    const vi = sin[k * next] as number;
    const xr = cos[(k + half) * next] as number;
    const xi = sin[(k + half) * next] as number;
    for (let a0 = k; a0 < n; a0 += 2 * size) {
      const a1 = a0 + half;
      const a2 = a0 + size;
      const a3 = a2 + half;
      let br = re[a1] as number;
      let bi = im[a1] as number;
      let tr = wr * br - wi * bi;
      let ti = wr * bi + wi * br;
      let ar = re[a0] as number;
      let ai = im[a0] as number;
      const p0r = ar + tr;
      const p0i = ai + ti;
      const p1r = ar - tr;
      const p1i = ai - ti;
      br = re[a3] as number;
      bi = im[a3] as number;
      tr = wr * br - wi * bi;
      ti = wr * bi + wi * br;
      ar = re[a2] as number;
      ai = im[a2] as number;
      const p2r = ar + tr;
      const p2i = ai + ti;
      const p3r = ar - tr;
      const p3i = ai - ti;
      tr = vr * p2r - vi * p2i;
      ti = vr * p2i + vi * p2r;
      re[a0] = p0r + tr;
      im[a0] = p0i + ti;
      re[a2] = p0r - tr;
      im[a2] = p0i - ti;
      tr = xr * p3r - xi * p3i;
      ti = xr * p3i + xi * p3r;
      re[a1] = p1r + tr;
      im[a1] = p1i + ti;
      re[a3] = p1r - tr;
      im[a3] = p1i - ti;
    }
  }
}

/** Periodic Hann window, computed once per length. */
export const hann = memoize(16, (length: number): Float64Array =>
  Float64Array.from({ length }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / length)),
);

/**
 * Welch segments of every channel's spectrum over the bins [firstBin, lastBin]: per
 * Hann-windowed segment (50% overlap) the FFT of each channel is kept, so that auto- and
 * cross-spectra can be averaged by the caller.
 */
export interface SegmentSpectra {
  bins: number;
  /** re[(segment * channels + channel) * bins + bin] */
  re: Float64Array;
  im: Float64Array;
  segments: number;
  channels: number;
}

/** Copies one mean-removed, windowed segment of `signal` into `target`. */
function windowed(signal: Float64Array, start: number, window: Float64Array, target: Float64Array): void {
  const n = window.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += signal[start + i] as number;
  mean /= n; // removing the mean keeps DC leakage out of the low bins
  for (let i = 0; i < n; i++) target[i] = ((signal[start + i] as number) - mean) * (window[i] as number);
}

/** Scratch arrays of one FFT length, reused: a segment's transform needs them only while it runs. */
const scratch = memoize(16, (n: number) => ({ zr: new Float64Array(n), zi: new Float64Array(n) }));

/**
 * One Hann-windowed segment of every channel, starting at sample `start`, over `bins` bins from
 * `firstBin`: channel c's bin k goes to re/im[offset + c * bins + k]. The streaming analysis
 * computes each segment once as the signal arrives; segmentSpectra computes a window's all at once.
 */
export function segmentSpectrum(channels: readonly Float64Array[], start: number, segmentLength: number, firstBin: number, bins: number, re: Float64Array, im: Float64Array, offset: number): void {
  const count = channels.length;
  const window = hann(segmentLength);
  const { zr, zi } = scratch(segmentLength);
  // Two real channels per complex FFT (one as the real part, one as the imaginary part),
  // separated afterwards by conjugate symmetry: half the transforms.
  for (let c = 0; c < count; c += 2) {
    const a = channels[c] as Float64Array;
    const b = channels[c + 1];
    windowed(a, start, window, zr);
    if (b === undefined) zi.fill(0);
    else windowed(b, start, window, zi);
    fft(zr, zi);
    const baseA = offset + c * bins;
    const baseB = baseA + bins;
    for (let k = 0; k < bins; k++) {
      const bin = firstBin + k;
      const mirror = (segmentLength - bin) % segmentLength;
      const pr = zr[bin] as number;
      const pi = zi[bin] as number;
      const qr = zr[mirror] as number;
      const qi = zi[mirror] as number;
      // A = (Z[k] + conj Z[N−k]) / 2, B = (Z[k] − conj Z[N−k]) / 2i
      re[baseA + k] = (pr + qr) / 2;
      im[baseA + k] = (pi - qi) / 2;
      if (b !== undefined) {
        re[baseB + k] = (pi + qi) / 2;
        im[baseB + k] = (qr - pr) / 2;
      }
    }
  }
}

export function segmentSpectra(channels: readonly Float64Array[], segmentLength: number, firstBin: number, lastBin: number): SegmentSpectra {
  const length = channels[0]?.length ?? 0;
  const hop = segmentLength / 2;
  const segments = Math.floor((length - segmentLength) / hop) + 1;
  if (segments < 1) throw new RangeError(`signal of ${length} samples is shorter than one ${segmentLength}-sample segment`);
  const bins = lastBin - firstBin + 1;
  const count = channels.length;
  const re = new Float64Array(segments * count * bins);
  const im = new Float64Array(segments * count * bins);
  for (let s = 0; s < segments; s++) segmentSpectrum(channels, s * hop, segmentLength, firstBin, bins, re, im, s * count * bins);
  return { bins, re, im, segments, channels: count };
}
