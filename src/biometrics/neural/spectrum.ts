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

/** In-place iterative radix-2 complex FFT; `re.length` must be a power of two. */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  if ((n & (n - 1)) !== 0) throw new RangeError(`FFT length ${n} is not a power of two`);
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      const tr = re[i] as number;
      re[i] = re[j] as number;
      re[j] = tr;
      const ti = im[i] as number;
      im[i] = im[j] as number;
      im[j] = ti;
    }
  }
  const { cos, sin } = twiddles(n);
  for (let size = 2; size <= n; size <<= 1) {
    const half = size >> 1;
    const stride = n / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < half; k++) {
        const wr = cos[k * stride] as number;
        const wi = sin[k * stride] as number;
        const a = start + k;
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

export function segmentSpectra(channels: readonly Float64Array[], segmentLength: number, firstBin: number, lastBin: number): SegmentSpectra {
  const length = channels[0]?.length ?? 0;
  const hop = segmentLength / 2;
  const segments = Math.floor((length - segmentLength) / hop) + 1;
  if (segments < 1) throw new RangeError(`signal of ${length} samples is shorter than one ${segmentLength}-sample segment`);
  const bins = lastBin - firstBin + 1;
  const count = channels.length;
  const window = hann(segmentLength);
  const re = new Float64Array(segments * count * bins);
  const im = new Float64Array(segments * count * bins);
  const zr = new Float64Array(segmentLength);
  const zi = new Float64Array(segmentLength);
  for (let s = 0; s < segments; s++) {
    const start = s * hop;
    // Two real channels per complex FFT (one as the real part, one as the imaginary part),
    // separated afterwards by conjugate symmetry: half the transforms.
    for (let c = 0; c < count; c += 2) {
      const a = channels[c] as Float64Array;
      const b = channels[c + 1];
      windowed(a, start, window, zr);
      if (b === undefined) zi.fill(0);
      else windowed(b, start, window, zi);
      fft(zr, zi);
      const baseA = (s * count + c) * bins;
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
  return { bins, re, im, segments, channels: count };
}
