import type { NeuralRejection } from './errors.js';
import { durationSeconds, type Recording } from './recording.js';
import { hann } from './spectrum.js';

/**
 * Signal-quality policy. Defaults suit scalp EEG in microvolts: resting EEG has a standard
 * deviation of roughly 5–50 µV, so < 0.5 µV means no signal reaches the amplifier and
 * > 150 µV (after band-pass) means an electrode is off the skin and picking up drift and mains.
 */
export interface QualityPolicy {
  minDurationSeconds: number;
  maxDurationSeconds: number;
  minSampleRate: number;
  maxSampleRate: number;
  flatMicrovolts: number;
  /** Fraction of samples sitting at the channel's extreme values that means clipping. */
  saturatedFraction: number;
  disconnectedMicrovolts: number;
  /** Mains power (50 or 60 Hz) relative to 1–40 Hz EEG power above which a channel is unusable. */
  lineNoiseRatio: number;
  /** Peak-to-peak amplitude in one analysis window above which the window is an artefact (blink, movement). */
  windowPeakToPeakMicrovolts: number;
}

export const defaultQualityPolicy: QualityPolicy = {
  minDurationSeconds: 10,
  maxDurationSeconds: 600,
  minSampleRate: 128,
  maxSampleRate: 16384,
  flatMicrovolts: 0.5,
  saturatedFraction: 0.01,
  disconnectedMicrovolts: 150,
  lineNoiseRatio: 1,
  windowPeakToPeakMicrovolts: 250,
};

export function standardDeviation(x: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < x.length; i++) mean += x[i] as number;
  mean /= x.length;
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += ((x[i] as number) - mean) ** 2;
  return Math.sqrt(sum / x.length);
}

export function peakToPeak(x: ArrayLike<number>): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < x.length; i++) {
    const v = x[i] as number;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return hi - lo;
}

/** Recording-level checks that need no filtering: duration and sample rate. */
export function checkShape(recording: Recording, policy: QualityPolicy): NeuralRejection[] {
  const out: NeuralRejection[] = [];
  const rate = recording.sampleRate;
  if (rate < policy.minSampleRate || rate > policy.maxSampleRate) {
    out.push({ code: 'sample_rate_unsupported', message: `sample rate ${rate} Hz is outside ${policy.minSampleRate}–${policy.maxSampleRate} Hz` });
  }
  const duration = durationSeconds(recording);
  if (duration < policy.minDurationSeconds) {
    out.push({ code: 'recording_too_short', message: `recording lasts ${duration.toFixed(1)} s; at least ${policy.minDurationSeconds} s are needed` });
  }
  if (duration > policy.maxDurationSeconds) {
    out.push({ code: 'recording_too_long', message: `recording lasts ${duration.toFixed(1)} s; the limit is ${policy.maxDurationSeconds} s` });
  }
  return out;
}

/** Within 1e-4 of the range from either extreme: where a clipped amplifier's samples sit. */
export function rails(lo: number, hi: number): { low: number; high: number } {
  return { low: lo + (hi - lo) * 1e-4, high: hi - (hi - lo) * 1e-4 };
}

/** Samples of `x[start, end)` on the rails. */
export function countOnRails(x: ArrayLike<number>, start: number, end: number, { low, high }: { low: number; high: number }): number {
  let atRail = 0;
  for (let i = start; i < end; i++) {
    const v = x[i] as number;
    if (v <= low || v >= high) atRail++;
  }
  return atRail;
}

/**
 * A flat or clipped channel, from its raw standard deviation and the share of its samples on the
 * rails (asked only when it is not flat). The streaming analysis applies the same criteria to
 * statistics it keeps per second.
 */
export function rawChannelRejection(label: string, sd: number, railFraction: () => number, policy: QualityPolicy): NeuralRejection | null {
  if (sd < policy.flatMicrovolts) return { code: 'channel_flat', channel: label, message: `channel ${label} is flat (standard deviation ${sd.toFixed(2)} µV)` };
  // Clean EEG touches its extremes a handful of times; a clipped amplifier sits on them.
  const fraction = railFraction();
  if (fraction > policy.saturatedFraction) {
    return { code: 'channel_saturated', channel: label, message: `channel ${label} is clipped: ${(fraction * 100).toFixed(1)}% of samples at its extremes` };
  }
  return null;
}

/** Flat and clipped channels, judged on the raw samples. */
export function checkRawChannels(recording: Recording, policy: QualityPolicy): NeuralRejection[] {
  return recording.channels.flatMap(({ label, samples }) => {
    const rejection = rawChannelRejection(label, standardDeviation(samples), () => {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < samples.length; i++) {
        const v = samples[i] as number;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      return countOnRails(samples, 0, samples.length, rails(lo, hi)) / samples.length;
    }, policy);
    return rejection === null ? [] : [rejection];
  });
}

/** The mains frequencies checked: the headset's country is unknown. */
export const MAINS_HZ = [50, 60] as const;

/**
 * Mains power (µV²) of one 1 s block `samples[start, start + round(rate))` at each of MAINS_HZ
 * (Hann window, Goertzel; 0 for a frequency at or above Nyquist), added into `into`: the block's
 * 2 Hz main lobe tolerates mains drift, and two single-bin DFTs cost far less than a spectrum.
 */
export function addMainsBlockPower(samples: ArrayLike<number>, start: number, rate: number, into: Float64Array): void {
  const block = Math.round(rate);
  const window = hann(block);
  MAINS_HZ.forEach((mains, f) => {
    if (mains >= rate / 2) return;
    const coefficient = 2 * Math.cos((2 * Math.PI * mains) / rate);
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < block; i++) {
      const s0 = (window[i] as number) * (samples[start + i] as number) + coefficient * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    const magnitude2 = s1 * s1 + s2 * s2 - coefficient * s1 * s2;
    // Hann coherent gain is 1/2: amplitude = 4|X|/N, power = amplitude²/2.
    into[f] = (into[f] as number) + (16 * magnitude2) / (block * block) / 2;
  });
}

/** The mean mains power of the stronger frequency, from per-frequency sums over `blocks` blocks. */
export function strongerMains(sums: Float64Array, blocks: number): number {
  return blocks > 0 ? Math.max(0, ...sums) / blocks : 0;
}

/** Mean mains power (µV²) over the recording's whole 1 s blocks, of the stronger of the two frequencies. */
function mainsPower(samples: ArrayLike<number>, rate: number): number {
  const blocks = Math.floor(samples.length / Math.round(rate));
  const sums = new Float64Array(MAINS_HZ.length);
  for (let b = 0; b < blocks; b++) addMainsBlockPower(samples, b * Math.round(rate), rate, sums);
  return strongerMains(sums, blocks);
}

/** A channel dominated by mains: its mains power against its 1–40 Hz EEG power (standard deviation after band-pass). */
export function lineNoiseRejection(label: string, mains: number, eegSd: number, policy: QualityPolicy): NeuralRejection | null {
  const ratio = mains / Math.max(eegSd ** 2, Number.MIN_VALUE);
  return ratio > policy.lineNoiseRatio ? { code: 'line_noise', channel: label, message: `channel ${label} is dominated by mains interference (${ratio.toFixed(1)}× the EEG power)` } : null;
}

/**
 * Mains interference per channel: mains power at the native rate (before notch or
 * resampling) relative to the channel's 1–40 Hz EEG power after band-pass.
 */
export function checkLineNoise(raw: Recording, filtered: readonly Float64Array[], policy: QualityPolicy): NeuralRejection[] {
  return raw.channels.flatMap(({ label, samples }, c) => {
    const rejection = lineNoiseRejection(label, mainsPower(samples, raw.sampleRate), standardDeviation(filtered[c] as Float64Array), policy);
    return rejection === null ? [] : [rejection];
  });
}

/** An electrode off the skin: far more band-limited power than any brain signal. */
export function disconnectedRejection(label: string, sd: number, policy: QualityPolicy): NeuralRejection | null {
  return sd > policy.disconnectedMicrovolts ? { code: 'channel_disconnected', channel: label, message: `channel ${label} looks disconnected (1–40 Hz standard deviation ${sd.toFixed(0)} µV)` } : null;
}

export function checkDisconnected(labels: readonly string[], filtered: readonly Float64Array[], policy: QualityPolicy): NeuralRejection[] {
  return filtered.flatMap((signal, c) => {
    const rejection = disconnectedRejection(labels[c] as string, standardDeviation(signal), policy);
    return rejection === null ? [] : [rejection];
  });
}

/** A blink or movement: a channel swinging beyond the policy's peak-to-peak limit. */
export function amplitudeRejection(label: string, p2p: number, policy: QualityPolicy): NeuralRejection | null {
  return p2p > policy.windowPeakToPeakMicrovolts ? { code: 'amplitude_artifact', channel: label, message: `channel ${label} swings ${p2p.toFixed(0)} µV peak-to-peak (limit ${policy.windowPeakToPeakMicrovolts} µV)` } : null;
}

/** Blinks and movement: the first channel of the window swinging beyond the policy's peak-to-peak limit. */
export function checkWindow(labels: readonly string[], window: readonly Float64Array[], policy: QualityPolicy): NeuralRejection | null {
  for (let c = 0; c < window.length; c++) {
    const rejection = amplitudeRejection(labels[c] as string, peakToPeak(window[c] as Float64Array), policy);
    if (rejection !== null) return rejection;
  }
  return null;
}
