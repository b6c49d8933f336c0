/**
 * Digital filters written here (no DSP dependency): RBJ-cookbook biquads cascaded into
 * Butterworth high/low-pass and notch filters, run forward and backward (zero phase, so
 * inter-channel phase — which coherence measures — is not distorted), and a windowed-sinc
 * polyphase resampler. Signals are Float64Array throughout.
 */

import { memoize } from './memo.js';

export interface Biquad {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

type Kind = 'lowpass' | 'highpass' | 'notch';

function biquad(kind: Kind, sampleRate: number, frequency: number, q: number): Biquad {
  if (!(frequency > 0 && frequency < sampleRate / 2)) {
    throw new RangeError(`${kind} frequency ${frequency} Hz must lie strictly between 0 and Nyquist (${sampleRate / 2} Hz)`);
  }
  const w = (2 * Math.PI * frequency) / sampleRate;
  const cos = Math.cos(w);
  const alpha = Math.sin(w) / (2 * q);
  const a0 = 1 + alpha;
  let b: [number, number, number];
  switch (kind) {
    case 'lowpass':
      b = [(1 - cos) / 2, 1 - cos, (1 - cos) / 2];
      break;
    case 'highpass':
      b = [(1 + cos) / 2, -(1 + cos), (1 + cos) / 2];
      break;
    case 'notch':
      b = [1, -2 * cos, 1];
      break;
  }
  return { b0: b[0] / a0, b1: b[1] / a0, b2: b[2] / a0, a1: (-2 * cos) / a0, a2: (1 - alpha) / a0 };
}

/** Q of each second-order section of an even-order Butterworth filter. */
function butterworthQs(order: number): number[] {
  if (order < 2 || order % 2 !== 0) throw new RangeError(`Butterworth order must be even and ≥ 2, got ${order}`);
  const sections = order / 2;
  return Array.from({ length: sections }, (_, k) => 1 / (2 * Math.cos((Math.PI * (2 * k + 1)) / (2 * order))));
}

export function butterworth(kind: 'lowpass' | 'highpass', sampleRate: number, frequency: number, order = 4): Biquad[] {
  return butterworthQs(order).map((q) => biquad(kind, sampleRate, frequency, q));
}

/** Second-order notch; `q` = centre frequency / −3 dB bandwidth. */
export function notch(sampleRate: number, frequency: number, q = 30): Biquad[] {
  return [biquad('notch', sampleRate, frequency, q)];
}

/** Transposed direct form II state for a constant input x0: a step at t=0 is not injected. */
export function steadyState(s: Biquad, x0: number): [number, number] {
  const dcGain = (s.b0 + s.b1 + s.b2) / (1 + s.a1 + s.a2);
  const y0 = dcGain * x0;
  return [y0 - s.b0 * x0, s.b2 * x0 - s.a2 * y0];
}

/**
 * Runs a cascade of biquads in place (transposed direct form II), two sections per pass: each
 * section's recurrence waits on its previous output, so the second one's work overlaps the
 * first's instead of following it (about twice as fast, with the same arithmetic).
 */
function runCascade(sections: readonly Biquad[], x: Float64Array): void {
  let k = 0;
  for (; k + 1 < sections.length; k += 2) runPair(sections[k]!, sections[k + 1]!, x);
  if (k < sections.length) runSection(sections[k]!, x);
}

/** One section through the signal, starting at rest at its first sample. */
function runSection(s: Biquad, x: Float64Array): void {
  const [z1, z2] = steadyState(s, x[0] ?? 0);
  runBiquad(s, x, z1, z2);
}

/** One section over `x` in place (transposed direct form II) from state (z1, z2); the state after it. */
export function runBiquad(s: Biquad, x: Float64Array, z1: number, z2: number): [number, number] {
  for (let i = 0; i < x.length; i++) {
    const xi = x[i] as number;
    const yi = s.b0 * xi + z1;
    z1 = s.b1 * xi - s.a1 * yi + z2;
    z2 = s.b2 * xi - s.a2 * yi;
    x[i] = yi;
  }
  return [z1, z2];
}

/** Section s, then section t, in one pass: t takes each of s's outputs as soon as it is made. */
function runPair(s: Biquad, t: Biquad, x: Float64Array): void {
  const x0 = x[0] ?? 0;
  let [z1, z2] = steadyState(s, x0);
  // The second section starts in the steady state for the first one's first output.
  let [w1, w2] = steadyState(t, s.b0 * x0 + z1);
  for (let i = 0; i < x.length; i++) {
    const xi = x[i] as number;
    const yi = s.b0 * xi + z1;
    z1 = s.b1 * xi - s.a1 * yi + z2;
    z2 = s.b2 * xi - s.a2 * yi;
    const vi = t.b0 * yi + w1;
    w1 = t.b1 * yi - t.a1 * vi + w2;
    w2 = t.b2 * yi - t.a2 * vi;
    x[i] = vi;
  }
}

/**
 * Zero-phase filtering: forward then backward through the cascade, after padding both ends
 * with an odd reflection of `padSamples` so that edge transients fall in the discarded padding.
 */
export function filtfilt(sections: readonly Biquad[], signal: ArrayLike<number>, padSamples: number): Float64Array {
  const n = signal.length;
  if (n === 0) return new Float64Array(0);
  const pad = Math.max(0, Math.min(padSamples, n - 1));
  const work = new Float64Array(n + 2 * pad);
  const first = signal[0] as number;
  const last = signal[n - 1] as number;
  for (let i = 0; i < pad; i++) {
    work[i] = 2 * first - (signal[pad - i] as number);
    work[n + pad + i] = 2 * last - (signal[n - 2 - i] as number);
  }
  for (let i = 0; i < n; i++) work[pad + i] = signal[i] as number;
  runCascade(sections, work);
  work.reverse();
  runCascade(sections, work);
  work.reverse();
  return work.slice(pad, pad + n);
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Rational up/down factors for a rate change; rates are rounded to 1 mHz. */
function ratio(fromRate: number, toRate: number): { up: number; down: number } {
  const from = Math.round(fromRate * 1000);
  const to = Math.round(toRate * 1000);
  const g = gcd(from, to);
  const up = to / g;
  const down = from / g;
  if (up > 4096 || down > 4096) {
    throw new RangeError(`cannot resample ${fromRate} Hz to ${toRate} Hz with a small rational factor`);
  }
  return { up, down };
}

/**
 * Kernel half-width in samples of the lower rate. 10 gives a transition band of roughly a
 * quarter of that rate around the cutoff: anything that could fold onto the 1–40 Hz analysis
 * band at 128 Hz (≥ 88 Hz) lies deep in the stop band, and each probe costs a few ms.
 */
const RESAMPLE_HALF_WIDTH = 10;

export interface ResampleKernel {
  up: number;
  down: number;
  half: number;
  /** phases[p][j] = tap p + j·up: the taps that meet real input samples for one output phase, contiguous. */
  phases: Float64Array[];
}

/** Blackman-windowed sinc low-pass at 0.45 × the lower rate, designed once per rate pair. */
const kernelFor = memoize(8, (key: string): ResampleKernel => {
  const [fromRate, toRate] = key.split('>').map(Number) as [number, number];
  const { up, down } = ratio(fromRate, toRate);
  // Cutoff in cycles per sample at the upsampled rate.
  const cutoff = (0.45 * Math.min(fromRate, toRate)) / (fromRate * up);
  const half = Math.ceil(RESAMPLE_HALF_WIDTH * up * Math.max(1, down / up));
  const taps = new Float64Array(2 * half + 1);
  for (let k = -half; k <= half; k++) {
    const x = 2 * cutoff * k;
    const sinc = k === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    const t = (k + half) / (2 * half);
    const window = 0.42 - 0.5 * Math.cos(2 * Math.PI * t) + 0.08 * Math.cos(4 * Math.PI * t);
    taps[k + half] = 2 * cutoff * up * sinc * window;
  }
  const phases = Array.from({ length: up }, (_, p) => taps.filter((_, t) => t % up === p));
  return { up, down, half, phases };
});

/** The polyphase kernel for a rate change (shared with the streaming resampler). */
export function resampleKernel(fromRate: number, toRate: number): ResampleKernel {
  return kernelFor(`${fromRate}>${toRate}`);
}

/** Whether `resample` supports this rate change (a small rational factor). */
export function canResample(fromRate: number, toRate: number): boolean {
  try {
    ratio(fromRate, toRate);
    return true;
  } catch {
    return false;
  }
}

/**
 * Polyphase resampling by up/down: only the needed output samples are computed, and only
 * the taps that meet real input samples. Ends are extended by odd reflection (as in
 * filtfilt), which continues the local slope instead of inventing a step.
 */
export function resample(signal: ArrayLike<number>, fromRate: number, toRate: number): Float64Array {
  const n = signal.length;
  if (fromRate === toRate) return Float64Array.from(signal);
  const { up, down, half, phases } = resampleKernel(fromRate, toRate);
  // Input with mirrored margins wide enough for the kernel, so the inner loop has no bounds logic.
  const margin = Math.ceil(half / up) + 1;
  const padded = new Float64Array(n + 2 * margin);
  for (let i = 0; i < n; i++) padded[margin + i] = signal[i] as number;
  const first = signal[0] as number;
  const last = signal[n - 1] as number;
  for (let i = 1; i <= margin; i++) {
    padded[margin - i] = 2 * first - (signal[Math.min(i, n - 1)] as number);
    padded[margin + n - 1 + i] = 2 * last - (signal[Math.max(n - 1 - i, 0)] as number);
  }
  const outLength = Math.ceil((n * up) / down);
  const out = new Float64Array(outLength);
  for (let m = 0; m < outLength; m++) {
    const centre = m * down; // position on the upsampled grid
    // Only taps k with centre − k ≡ 0 (mod up) meet a real input sample; the first is k0.
    const phase = (centre + half) % up;
    const k0 = phase - half;
    const taps = phases[phase] as Float64Array;
    // Tap j of the phase meets input sample (centre − k0)/up − j.
    const start = (margin + (centre - k0) / up) | 0; // integer-valued; | 0 keeps V8 on integer indexing
    let acc = 0;
    for (let j = 0; j < taps.length; j++) acc += (taps[j] as number) * (padded[start - j] as number);
    out[m] = acc;
  }
  return out;
}
