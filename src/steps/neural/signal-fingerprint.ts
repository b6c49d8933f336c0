import { butterworth, filtfilt } from '../../biometrics/neural/filters.js';
import type { Recording } from '../../biometrics/neural/recording.js';

/**
 * What the replay defence keeps of a recording, independent of the embedding model: per frequency
 * band, every channel band-passed, resampled to a low fixed rate, scaled to unit variance (so
 * amplitude scaling cancels) and quantised to one signed byte per sample. Matching only uses
 * normalised correlations, so the bytes are used as they are.
 */
export interface SignalFingerprint {
  bands: FingerprintBand[];
}

export interface FingerprintBand {
  rate: number;
  /** Quantised unit-variance samples per channel, in the montage's order. */
  channels: Int8Array[];
}

/**
 * Two bands, each matched on its own: 1–8 Hz (delta, theta), and 8–16 Hz (alpha, low beta), which
 * the model's coherence features need, so that filtering a copy's low band away does not hide it.
 * Each rate is four times its band's top (a copy shifted by half a sample still correlates) and
 * divides the top band's rate.
 */
const FINGERPRINT_BANDS = [
  { rate: 32, highpassHz: 1, lowpassHz: 8 },
  { rate: 64, highpassHz: 8, lowpassHz: 16 },
] as const;
// One byte per sample: a unit-variance value times 24 spans ±5.3 SD; rarer peaks are clipped.
const QUANT_STEPS_PER_SD = 24;
const FORMAT_VERSION = 1;

// Both bands come from one low-passed copy at the top rate; the low band is low-passed again there.
const TOP = FINGERPRINT_BANDS[FINGERPRINT_BANDS.length - 1]!;
const bandFilters = FINGERPRINT_BANDS.map((b) => [...(b.rate < TOP.rate ? butterworth('lowpass', TOP.rate, b.lowpassHz) : []), ...butterworth('highpass', TOP.rate, b.highpassHz)]);

/**
 * One channel at the top band's rate: a zero-phase IIR low-pass at the recording's own rate, then
 * linear interpolation at the new sample times (the signal is band-limited well below either rate),
 * so any input rate works and the cost stays a few operations per input sample.
 */
function lowRate(samples: Float32Array, rate: number, lowpass: ReturnType<typeof butterworth>): Float64Array {
  const low = filtfilt(lowpass, samples, Math.round(rate));
  const n = Math.floor(((low.length - 1) * TOP.rate) / rate) + 1;
  const out = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const t = (k * rate) / TOP.rate;
    const i = Math.floor(t);
    const f = t - i;
    out[k] = (low[i] as number) * (1 - f) + (low[Math.min(i + 1, low.length - 1)] as number) * f;
  }
  return out;
}

/** Every `factor`-th sample (the signal is already band-limited for the lower rate). */
function decimate(x: Float64Array, factor: number): Float64Array {
  if (factor === 1) return x;
  const out = new Float64Array(Math.ceil(x.length / factor));
  for (let i = 0; i < out.length; i++) out[i] = x[i * factor] as number;
  return out;
}

/** Zero mean, unit variance, then one signed byte per sample (a flat channel stays zero). */
function quantise(x: Float64Array): Int8Array {
  let mean = 0;
  for (let i = 0; i < x.length; i++) mean += x[i] as number;
  mean /= x.length || 1;
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += ((x[i] as number) - mean) ** 2;
  const sd = Math.sqrt(sum / (x.length || 1));
  const scale = sd > 0 ? QUANT_STEPS_PER_SD / sd : 0;
  // A plain loop: typed-array `from` with a mapping function is several times slower here.
  const out = new Int8Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.max(-127, Math.min(127, Math.round(((x[i] as number) - mean) * scale)));
  return out;
}

/** The fingerprint of a montage-selected recording (at least a few seconds long). */
export function signalFingerprint(recording: Recording): SignalFingerprint {
  const lowpass = butterworth('lowpass', recording.sampleRate, TOP.lowpassHz);
  const top = recording.channels.map((c) => lowRate(c.samples, recording.sampleRate, lowpass));
  return {
    bands: FINGERPRINT_BANDS.map((band, b) => ({
      rate: band.rate,
      channels: top.map((x) => quantise(decimate(filtfilt(bandFilters[b]!, x, 2 * TOP.rate), TOP.rate / band.rate))),
    })),
  };
}

/** u8 version, u8 bands, then per band: u8 rate, u8 channels, u32 samples per channel, the samples channel by channel. */
export function packFingerprint(f: SignalFingerprint): Buffer {
  const size = f.bands.reduce((n, b) => n + 6 + b.channels.length * (b.channels[0]?.length ?? 0), 2);
  const out = Buffer.alloc(size);
  out.writeUInt8(FORMAT_VERSION, 0);
  out.writeUInt8(f.bands.length, 1);
  let at = 2;
  for (const band of f.bands) {
    const length = band.channels[0]?.length ?? 0;
    out.writeUInt8(band.rate, at);
    out.writeUInt8(band.channels.length, at + 1);
    out.writeUInt32LE(length, at + 2);
    at += 6;
    for (const c of band.channels) {
      out.set(new Uint8Array(c.buffer, c.byteOffset, c.length), at);
      at += length;
    }
  }
  return out;
}

export function unpackFingerprint(bytes: Buffer): SignalFingerprint {
  if (bytes.length < 2 || bytes.readUInt8(0) !== FORMAT_VERSION) throw new Error('not a signal fingerprint of a known format');
  const bands: FingerprintBand[] = [];
  let at = 2;
  for (let b = 0; b < bytes.readUInt8(1); b++) {
    if (bytes.length < at + 6) throw new Error('signal fingerprint of the wrong length');
    const rate = bytes.readUInt8(at);
    const count = bytes.readUInt8(at + 1);
    const length = bytes.readUInt32LE(at + 2);
    at += 6;
    if (bytes.length < at + count * length) throw new Error('signal fingerprint of the wrong length');
    const values = new Int8Array(bytes.buffer, bytes.byteOffset + at, count * length);
    bands.push({ rate, channels: Array.from({ length: count }, (_, i) => values.subarray(i * length, (i + 1) * length)) });
    at += count * length;
  }
  if (at !== bytes.length) throw new Error('signal fingerprint of the wrong length');
  return { bands };
}
