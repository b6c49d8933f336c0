import { segmentSpectra } from './spectrum.js';

/**
 * Spectral coherence between every pair of electrodes, band by band.
 *
 * Why coherence: it measures how consistently two scalp sites oscillate together, which is
 * shaped by a person's head and cortical anatomy more than by what they are doing. On the
 * eegmat recordings, alpha/beta coherence with a projection learned on rest AND task windows
 * stayed at a few percent EER across conditions, where band powers drifted with the task and
 * spatial covariance collapsed (see models/neural.md).
 */
export interface Band {
  name: string;
  lowHz: number;
  highHz: number;
}

export interface FeatureConfig {
  segmentSeconds: number;
  bands: readonly Band[];
}

export function featureLength(channelCount: number, config: FeatureConfig): number {
  return ((channelCount * (channelCount - 1)) / 2) * config.bands.length;
}

/**
 * Features of one analysis window, band-major then pair (i < j) order:
 * Fisher-z of the band-averaged magnitude-squared coherence, atanh(√MSC), which makes the
 * bounded coherence roughly Gaussian for the linear projection that follows.
 */
export function coherenceFeatures(window: readonly Float64Array[], sampleRate: number, config: FeatureConfig): Float32Array {
  const segment = Math.round(config.segmentSeconds * sampleRate);
  const binHz = sampleRate / segment;
  const lowest = Math.min(...config.bands.map((b) => b.lowHz));
  const highest = Math.max(...config.bands.map((b) => b.highHz));
  const firstBin = Math.ceil(lowest / binHz);
  const lastBin = Math.floor(highest / binHz);
  const spectra = segmentSpectra(window, segment, firstBin, lastBin);
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
  const out = new Float32Array(pairs * config.bands.length);
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
      config.bands.forEach((band, k) => {
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
