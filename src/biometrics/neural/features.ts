import { segmentSpectra, type SegmentSpectra } from './spectrum.js';

/**
 * What the model sees of one analysis window (see models/neural.md for the evidence):
 *
 * - Spectral coherence between every pair of electrodes, band by band: how consistently two
 *   scalp sites oscillate together, shaped by a person's head and cortical anatomy more than
 *   by what they are doing. With a projection learned on rest AND task windows it stays at a
 *   few percent EER across conditions, where band powers alone drift with the task.
 * - The relative log power spectrum of each channel (1 Hz bins, each channel's mean log power
 *   removed so electrode gain does not count): the shape of a person's spectrum, e.g. the
 *   individual alpha peak frequency. Added to coherence it lowered cross-validated
 *   cross-condition EER, most of all for montages with few channels (few pairs).
 */
export interface Band {
  name: string;
  lowHz: number;
  highHz: number;
}

export interface SpectrumConfig {
  segmentSeconds: number;
  lowHz: number;
  highHz: number;
}

export interface FeatureConfig {
  segmentSeconds: number;
  bands: readonly Band[];
  /** Relative log power spectrum per channel; null for coherence only. */
  spectrum: SpectrumConfig | null;
}

/** Where a Welch analysis sits: segment length in samples and the FFT bins it keeps. */
export interface SegmentGrid {
  segment: number;
  firstBin: number;
  lastBin: number;
  binHz: number;
}

/** The spectrum features' segments: bins on whole multiples of 1 / segmentSeconds over [lowHz, highHz]. */
export function spectrumGrid(sampleRate: number, spectrum: SpectrumConfig): SegmentGrid {
  const segment = Math.round(spectrum.segmentSeconds * sampleRate);
  return { segment, firstBin: Math.ceil(spectrum.lowHz * spectrum.segmentSeconds), lastBin: Math.floor(spectrum.highHz * spectrum.segmentSeconds), binHz: sampleRate / segment };
}

/** The coherence features' segments: every bin the bands touch. */
export function coherenceGrid(sampleRate: number, config: Pick<FeatureConfig, 'segmentSeconds' | 'bands'>): SegmentGrid {
  const segment = Math.round(config.segmentSeconds * sampleRate);
  const binHz = sampleRate / segment;
  const lowest = Math.min(...config.bands.map((b) => b.lowHz));
  const highest = Math.max(...config.bands.map((b) => b.highHz));
  return { segment, firstBin: Math.ceil(lowest / binHz), lastBin: Math.floor(highest / binHz), binHz };
}

export function featureLength(channelCount: number, config: FeatureConfig): number {
  const coherence = ((channelCount * (channelCount - 1)) / 2) * config.bands.length;
  if (config.spectrum === null) return coherence;
  const { firstBin, lastBin } = spectrumGrid(1, config.spectrum);
  return coherence + channelCount * (lastBin - firstBin + 1);
}

/** The model's input vector for one window: coherence features, then spectrum features. */
export function windowFeatureVector(window: readonly Float64Array[], sampleRate: number, config: FeatureConfig): Float32Array {
  const c = coherenceGrid(sampleRate, config);
  const s = config.spectrum === null ? null : spectrumGrid(sampleRate, config.spectrum);
  return featuresFromSums(summedCross(segmentSpectra(window, c.segment, c.firstBin, c.lastBin)), s === null ? null : summedPower(segmentSpectra(window, s.segment, s.firstBin, s.lastBin)), sampleRate, config);
}

/**
 * Auto-spectra of every channel and cross-spectra of every channel pair (i < j), summed over a
 * window's Welch segments: what coherence is computed from. A stream keeps them as running sums,
 * adding each segment once as it arrives and taking it away once as it leaves the window.
 */
export interface CrossSpectra {
  readonly channels: number;
  readonly bins: number;
  /** auto[c * bins + b] */
  readonly auto: Float64Array;
  /** cross[pair * bins + b], pairs in (0,1), (0,2), …, (1,2), … order */
  readonly crossRe: Float64Array;
  readonly crossIm: Float64Array;
}

export function emptyCrossSpectra(channels: number, bins: number): CrossSpectra {
  const pairs = (channels * (channels - 1)) / 2;
  return { channels, bins, auto: new Float64Array(channels * bins), crossRe: new Float64Array(pairs * bins), crossIm: new Float64Array(pairs * bins) };
}

/** Adds (sign 1) or takes away (sign −1) segment `segment` of `spectra`. */
export function accumulateCross(spectra: SegmentSpectra, segment: number, into: CrossSpectra, sign: 1 | -1): void {
  const { bins, channels, re, im } = spectra;
  const { auto, crossRe, crossIm } = into;
  for (let c = 0; c < channels; c++) {
    const base = (segment * channels + c) * bins;
    for (let b = 0; b < bins; b++) auto[c * bins + b] = (auto[c * bins + b] as number) + sign * ((re[base + b] as number) ** 2 + (im[base + b] as number) ** 2);
  }
  let pair = 0;
  for (let i = 0; i < channels; i++) {
    const bi = (segment * channels + i) * bins;
    for (let j = i + 1; j < channels; j++, pair++) {
      const bj = (segment * channels + j) * bins;
      const o = pair * bins;
      for (let b = 0; b < bins; b++) {
        const ar = re[bi + b] as number;
        const ai = im[bi + b] as number;
        const br = re[bj + b] as number;
        const bim = im[bj + b] as number;
        // X_i · conj(X_j)
        crossRe[o + b] = (crossRe[o + b] as number) + sign * (ar * br + ai * bim);
        crossIm[o + b] = (crossIm[o + b] as number) + sign * (ai * br - ar * bim);
      }
    }
  }
}

/** Adds (sign 1) or takes away (sign −1) segment `segment`'s power per channel and bin. */
export function accumulatePower(spectra: SegmentSpectra, segment: number, into: Float64Array, sign: 1 | -1): void {
  const { bins, channels, re, im } = spectra;
  for (let c = 0; c < channels; c++) {
    const base = (segment * channels + c) * bins;
    for (let b = 0; b < bins; b++) into[c * bins + b] = (into[c * bins + b] as number) + sign * ((re[base + b] as number) ** 2 + (im[base + b] as number) ** 2);
  }
}

function summedCross(spectra: SegmentSpectra): CrossSpectra {
  const sums = emptyCrossSpectra(spectra.channels, spectra.bins);
  for (let s = 0; s < spectra.segments; s++) accumulateCross(spectra, s, sums, 1);
  return sums;
}

function summedPower(spectra: SegmentSpectra): Float64Array {
  const power = new Float64Array(spectra.channels * spectra.bins);
  for (let s = 0; s < spectra.segments; s++) accumulatePower(spectra, s, power, 1);
  return power;
}

/**
 * The feature vector from a window's summed spectra (coherence, and spectrum power when the model
 * has spectrum features): shared by uploads and streams.
 */
export function featuresFromSums(cross: CrossSpectra, power: Float64Array | null, sampleRate: number, config: FeatureConfig): Float32Array {
  const grid = coherenceGrid(sampleRate, config);
  const features = coherenceFromCross(cross, grid.firstBin, grid.binHz, config.bands);
  if (power === null) return features;
  const spectrum = spectrumFromPower(power, cross.channels);
  const out = new Float32Array(features.length + spectrum.length);
  out.set(features);
  out.set(spectrum, features.length);
  return out;
}

/**
 * Welch power spectrum of each channel over [lowHz, highHz], as log power minus the channel's
 * mean log power; channel-major. Segment length × sample rate must be a whole number of samples
 * whose bins fall on whole multiples of 1 / segmentSeconds (true for 128 Hz and 1 s).
 */
export function spectrumFeatures(window: readonly Float64Array[], sampleRate: number, config: SpectrumConfig): Float32Array {
  const { segment, firstBin, lastBin } = spectrumGrid(sampleRate, config);
  return spectrumFromPower(summedPower(segmentSpectra(window, segment, firstBin, lastBin)), window.length);
}

function spectrumFromPower(summed: Float64Array, channels: number): Float32Array {
  const bins = summed.length / channels;
  const out = new Float32Array(summed.length);
  const power = new Float64Array(bins);
  for (let c = 0; c < channels; c++) {
    let mean = 0;
    for (let b = 0; b < bins; b++) {
      // The floor keeps a silent bin finite (and a running sum's rounding non-negative); flat channels are rejected long before this.
      power[b] = Math.log(Math.max(summed[c * bins + b] as number, 0) + 1e-12);
      mean += power[b] as number;
    }
    mean /= bins;
    for (let b = 0; b < bins; b++) out[c * bins + b] = (power[b] as number) - mean;
  }
  return out;
}

/**
 * Features of one analysis window, band-major then pair (i < j) order:
 * Fisher-z of the band-averaged magnitude-squared coherence, atanh(√MSC), which makes the
 * bounded coherence roughly Gaussian for the linear projection that follows.
 */
export function coherenceFeatures(window: readonly Float64Array[], sampleRate: number, config: Pick<FeatureConfig, 'segmentSeconds' | 'bands'>): Float32Array {
  const { segment, firstBin, lastBin, binHz } = coherenceGrid(sampleRate, config);
  return coherenceFromCross(summedCross(segmentSpectra(window, segment, firstBin, lastBin)), firstBin, binHz, config.bands);
}

function coherenceFromCross(cross: CrossSpectra, firstBin: number, binHz: number, bands: readonly Band[]): Float32Array {
  const { channels, bins, auto, crossRe, crossIm } = cross;
  const pairs = (channels * (channels - 1)) / 2;
  const out = new Float32Array(pairs * bands.length);
  let pair = 0;
  for (let i = 0; i < channels; i++) {
    for (let j = i + 1; j < channels; j++, pair++) {
      const o = pair * bins;
      bands.forEach((band, k) => {
        let sum = 0;
        let count = 0;
        for (let b = 0; b < bins; b++) {
          const f = (firstBin + b) * binHz;
          if (f < band.lowHz || f >= band.highHz) continue;
          const denominator = (auto[i * bins + b] as number) * (auto[j * bins + b] as number);
          sum += denominator > 0 ? ((crossRe[o + b] as number) ** 2 + (crossIm[o + b] as number) ** 2) / denominator : 0;
          count++;
        }
        const msc = count > 0 ? sum / count : 0;
        out[k * pairs + pair] = Math.atanh(Math.min(Math.sqrt(msc), 0.999999));
      });
    }
  }
  return out;
}
