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

/** Flat and clipped channels, judged on the raw samples. */
export function checkRawChannels(recording: Recording, policy: QualityPolicy): NeuralRejection[] {
  const out: NeuralRejection[] = [];
  for (const { label, samples } of recording.channels) {
    const sd = standardDeviation(samples);
    if (sd < policy.flatMicrovolts) {
      out.push({ code: 'channel_flat', channel: label, message: `channel ${label} is flat (standard deviation ${sd.toFixed(2)} µV)` });
      continue;
    }
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < samples.length; i++) {
      const v = samples[i] as number;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    // Clean EEG touches its extremes a handful of times; a clipped amplifier sits on them.
    const low = lo + (hi - lo) * 1e-4;
    const high = hi - (hi - lo) * 1e-4;
    let atRail = 0;
    for (let i = 0; i < samples.length; i++) {
      const v = samples[i] as number;
      if (v <= low || v >= high) atRail++;
    }
    const fraction = atRail / samples.length;
    if (fraction > policy.saturatedFraction) {
      out.push({ code: 'channel_saturated', channel: label, message: `channel ${label} is clipped: ${(fraction * 100).toFixed(1)}% of samples at its extremes` });
    }
  }
  return out;
}

/**
 * Mains amplitude per 1 s block (Hann window, Goertzel at 50 and 60 Hz): the block's 2 Hz
 * main lobe tolerates mains drift, and two single-bin DFTs cost far less than a spectrum.
 * Returns the mean mains power (µV²) of the stronger of the two frequencies.
 */
function mainsPower(samples: ArrayLike<number>, rate: number): number {
  const block = Math.round(rate);
  const blocks = Math.floor(samples.length / block);
  const window = hann(block);
  let best = 0;
  for (const mains of [50, 60]) {
    if (mains >= rate / 2) continue;
    const coefficient = 2 * Math.cos((2 * Math.PI * mains) / rate);
    let power = 0;
    for (let b = 0; b < blocks; b++) {
      let s1 = 0;
      let s2 = 0;
      for (let i = 0; i < block; i++) {
        const s0 = (window[i] as number) * (samples[b * block + i] as number) + coefficient * s1 - s2;
        s2 = s1;
        s1 = s0;
      }
      const magnitude2 = s1 * s1 + s2 * s2 - coefficient * s1 * s2;
      // Hann coherent gain is 1/2: amplitude = 4|X|/N, power = amplitude²/2.
      power += (16 * magnitude2) / (block * block) / 2;
    }
    best = Math.max(best, blocks > 0 ? power / blocks : 0);
  }
  return best;
}

/**
 * Mains interference per channel: mains power at the native rate (before notch or
 * resampling) relative to the channel's 1–40 Hz EEG power after band-pass.
 */
export function checkLineNoise(raw: Recording, filtered: readonly Float64Array[], policy: QualityPolicy): NeuralRejection[] {
  const out: NeuralRejection[] = [];
  raw.channels.forEach(({ label, samples }, c) => {
    const eeg = standardDeviation(filtered[c] as Float64Array) ** 2;
    const ratio = mainsPower(samples, raw.sampleRate) / Math.max(eeg, Number.MIN_VALUE);
    if (ratio > policy.lineNoiseRatio) {
      out.push({ code: 'line_noise', channel: label, message: `channel ${label} is dominated by mains interference (${ratio.toFixed(1)}× the EEG power)` });
    }
  });
  return out;
}

/** Electrodes off the skin: far more band-limited power than any brain signal. */
export function checkDisconnected(labels: readonly string[], filtered: readonly Float64Array[], policy: QualityPolicy): NeuralRejection[] {
  const out: NeuralRejection[] = [];
  filtered.forEach((signal, c) => {
    const label = labels[c] as string;
    const sd = standardDeviation(signal);
    if (sd > policy.disconnectedMicrovolts) {
      out.push({ code: 'channel_disconnected', channel: label, message: `channel ${label} looks disconnected (1–40 Hz standard deviation ${sd.toFixed(0)} µV)` });
    }
  });
  return out;
}

/** Blinks and movement: any channel of the window swinging beyond the policy's peak-to-peak limit. */
export function checkWindow(labels: readonly string[], window: readonly Float64Array[], policy: QualityPolicy): NeuralRejection | null {
  for (let c = 0; c < window.length; c++) {
    const p2p = peakToPeak(window[c] as Float64Array);
    if (p2p > policy.windowPeakToPeakMicrovolts) {
      const label = labels[c] as string;
      return { code: 'amplitude_artifact', channel: label, message: `channel ${label} swings ${p2p.toFixed(0)} µV peak-to-peak (limit ${policy.windowPeakToPeakMicrovolts} µV)` };
    }
  }
  return null;
}
