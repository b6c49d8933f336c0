import { endianness } from 'node:os';
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
  /**
   * The channels' sum at every sample (a reorder does not change it), which the search slides
   * over the memory. Stored with the channels: adding up every remembered channel again for each
   * verification was about a sixth of the check's CPU time. 255 channels × 127 fit 16 bits.
   */
  channelSum: Int16Array;
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
// Version 1 had no channel sums; rows stored then are still read (their sums are added up on reading).
const FORMAT_VERSION = 2;
const FORMAT_WITHOUT_SUMS = 1;
const BIG_ENDIAN = endianness() === 'BE';

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

function channelSum(channels: readonly Int8Array[]): Int16Array {
  const out = new Int16Array(channels[0]?.length ?? 0);
  for (const c of channels) for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) + (c[i] as number);
  return out;
}

function fingerprintBand(rate: number, channels: Int8Array[]): FingerprintBand {
  return { rate, channels, channelSum: channelSum(channels) };
}

/** The fingerprint of a montage-selected recording (at least a few seconds long). */
export function signalFingerprint(recording: Recording): SignalFingerprint {
  const lowpass = butterworth('lowpass', recording.sampleRate, TOP.lowpassHz);
  const top = recording.channels.map((c) => lowRate(c.samples, recording.sampleRate, lowpass));
  return {
    bands: FINGERPRINT_BANDS.map((b, i) => fingerprintBand(b.rate, top.map((x) => quantise(decimate(filtfilt(bandFilters[i]!, x, 2 * TOP.rate), TOP.rate / b.rate))))),
  };
}

/**
 * u8 version, u8 bands, then per band: u8 rate, u8 channels, u32 samples per channel, the samples
 * channel by channel, the channel sum as i16 per sample (little-endian).
 */
export function packFingerprint(f: SignalFingerprint): Buffer {
  const size = f.bands.reduce((n, b) => n + 6 + (b.channels.length + 2) * b.channelSum.length, 2);
  const out = Buffer.alloc(size);
  out.writeUInt8(FORMAT_VERSION, 0);
  out.writeUInt8(f.bands.length, 1);
  let at = 2;
  for (const band of f.bands) {
    const length = band.channelSum.length;
    out.writeUInt8(band.rate, at);
    out.writeUInt8(band.channels.length, at + 1);
    out.writeUInt32LE(length, at + 2);
    at += 6;
    for (const c of band.channels) {
      out.set(new Uint8Array(c.buffer, c.byteOffset, c.length), at);
      at += length;
    }
    for (const v of band.channelSum) at = out.writeInt16LE(v, at);
  }
  return out;
}

/** Reads either format; a version 1 fingerprint gets its channel sums added up here. */
export function unpackFingerprint(bytes: Buffer): SignalFingerprint {
  const version = bytes.length < 2 ? undefined : bytes.readUInt8(0);
  if (version !== FORMAT_VERSION && version !== FORMAT_WITHOUT_SUMS) throw new Error('not a signal fingerprint of a known format');
  const sumBytes = version === FORMAT_VERSION ? 2 : 0;
  const bands: FingerprintBand[] = [];
  let at = 2;
  for (let b = 0; b < bytes.readUInt8(1); b++) {
    if (bytes.length < at + 6) throw new Error('signal fingerprint of the wrong length');
    const rate = bytes.readUInt8(at);
    const count = bytes.readUInt8(at + 1);
    const length = bytes.readUInt32LE(at + 2);
    at += 6;
    if (bytes.length < at + (count + sumBytes) * length) throw new Error('signal fingerprint of the wrong length');
    const channels: Int8Array[] = [];
    for (let i = 0; i < count; i++) channels.push(new Int8Array(bytes.buffer, bytes.byteOffset + at + i * length, length));
    at += count * length;
    if (sumBytes === 0) bands.push(fingerprintBand(rate, channels));
    else {
      bands.push({ rate, channels, channelSum: readInt16s(bytes, at, length) });
      at += 2 * length;
    }
  }
  if (at !== bytes.length) throw new Error('signal fingerprint of the wrong length');
  return { bands };
}

/** Little-endian i16 values from any byte offset: copied into an aligned array (a view would need an even offset), swapped on a big-endian machine. */
function readInt16s(bytes: Buffer, at: number, count: number): Int16Array {
  const out = new Int16Array(count);
  const raw = Buffer.from(out.buffer);
  raw.set(bytes.subarray(at, at + 2 * count));
  if (BIG_ENDIAN) raw.swap16();
  return out;
}
