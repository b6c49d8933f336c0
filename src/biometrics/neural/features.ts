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
  return featuresFromSpectra(segmentSpectra(window, c.segment, c.firstBin, c.lastBin), s === null ? null : segmentSpectra(window, s.segment, s.firstBin, s.lastBin), sampleRate, config);
}

/**
 * The feature vector from a window's Welch segments (coherence segments, spectrum segments when
 * the model has spectrum features): what windowFeatureVector computes once the segments are known,
 * shared with the streaming analysis, which computes each segment only once.
 */
export function featuresFromSpectra(coherence: SegmentSpectra, spectrum: SegmentSpectra | null, sampleRate: number, config: FeatureConfig): Float32Array {
  const grid = coherenceGrid(sampleRate, config);
  const features = coherenceFromSpectra(coherence, grid.firstBin, grid.binHz, config.bands);
  if (spectrum === null) return features;
  const out = new Float32Array(features.length + spectrum.channels * spectrum.bins);
  out.set(features);
  out.set(spectrumFromSpectra(spectrum), features.length);
  return out;
}

/**
 * Welch power spectrum of each channel over [lowHz, highHz], as log power minus the channel's
 * mean log power; channel-major. Segment length × sample rate must be a whole number of samples
 * whose bins fall on whole multiples of 1 / segmentSeconds (true for 128 Hz and 1 s).
 */
export function spectrumFeatures(window: readonly Float64Array[], sampleRate: number, config: SpectrumConfig): Float32Array {
  const { segment, firstBin, lastBin } = spectrumGrid(sampleRate, config);
  return spectrumFromSpectra(segmentSpectra(window, segment, firstBin, lastBin));
}

function spectrumFromSpectra(spectra: SegmentSpectra): Float32Array {
  const { bins, channels, segments, re, im } = spectra;
  const out = new Float32Array(channels * bins);
  const power = new Float64Array(bins);
  for (let c = 0; c < channels; c++) {
    power.fill(0);
    for (let s = 0; s < segments; s++) {
      const base = (s * channels + c) * bins;
      for (let b = 0; b < bins; b++) power[b] = (power[b] as number) + (re[base + b] as number) ** 2 + (im[base + b] as number) ** 2;
    }
    let mean = 0;
    for (let b = 0; b < bins; b++) {
      // The floor keeps a silent bin finite; flat channels are rejected long before this.
      power[b] = Math.log((power[b] as number) + 1e-12);
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
  return coherenceFromSpectra(segmentSpectra(window, segment, firstBin, lastBin), firstBin, binHz, config.bands);
}

function coherenceFromSpectra(spectra: SegmentSpectra, firstBin: number, binHz: number, bands: readonly Band[]): Float32Array {
  const { bins, channels, segments, re, im } = spectra;

  // Auto-spectra per channel and bin, averaged over segments.
  const auto = new Float64Array(channels * bins);
  for (let s = 0; s < segments; s++) {
    for (let c = 0; c < channels; c++) {
      const base = (s * channels + c) * bins;
      for (let b = 0; b < bins; b++) auto[c * bins + b] = (auto[c * bins + b] as number) + (re[base + b] as number) ** 2 + (im[base + b] as number) ** 2;
    }
  }

  const pairs = (channels * (channels - 1)) / 2;
  const out = new Float32Array(pairs * bands.length);
  const crossRe = new Float64Array(bins);
  const crossIm = new Float64Array(bins);
  let pair = 0;
  for (let i = 0; i < channels; i++) {
    for (let j = i + 1; j < channels; j++, pair++) {
      crossRe.fill(0);
      crossIm.fill(0);
      for (let s = 0; s < segments; s++) {
        const bi = (s * channels + i) * bins;
        const bj = (s * channels + j) * bins;
        for (let b = 0; b < bins; b++) {
          const ar = re[bi + b] as number;
          const ai = im[bi + b] as number;
          const br = re[bj + b] as number;
          const bim = im[bj + b] as number;
          // X_i · conj(X_j)
          crossRe[b] = (crossRe[b] as number) + ar * br + ai * bim;
          crossIm[b] = (crossIm[b] as number) + ai * br - ar * bim;
        }
      }
      bands.forEach((band, k) => {
        let sum = 0;
        let count = 0;
        for (let b = 0; b < bins; b++) {
          const f = (firstBin + b) * binHz;
          if (f < band.lowHz || f >= band.highHz) continue;
          const denominator = (auto[i * bins + b] as number) * (auto[j * bins + b] as number);
          sum += denominator > 0 ? ((crossRe[b] as number) ** 2 + (crossIm[b] as number) ** 2) / denominator : 0;
          count++;
        }
        const msc = count > 0 ? sum / count : 0;
        out[k * pairs + pair] = Math.atanh(Math.min(Math.sqrt(msc), 0.999999));
      });
    }
  }
  return out;
}
