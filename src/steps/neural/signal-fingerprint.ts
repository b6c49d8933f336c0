import { butterworth, filtfilt } from '../../biometrics/neural/filters.js';
import type { Recording } from '../../biometrics/neural/recording.js';

/**
 * What the replay defence keeps of a recording, independent of the embedding model: every channel
 * low-passed, resampled to a low fixed rate, high-passed, scaled to unit variance (so amplitude
 * scaling cancels) and quantised to one signed byte per sample. Matching only uses normalised
 * correlations, so the bytes are used as they are.
 */
export interface SignalFingerprint {
  rate: number;
  /** Quantised unit-variance samples per channel, in the montage's order. */
  channels: Int8Array[];
}

/** The fixed rate and band every fingerprint is made at. */
export const FINGERPRINT_RATE = 32;
const HIGHPASS_HZ = 1;
const LOWPASS_HZ = 8;
// One byte per sample: a unit-variance value times 24 spans ±5.3 SD; rarer peaks are clipped.
const QUANT_STEPS_PER_SD = 24;
const FORMAT_VERSION = 1;

const highpass = butterworth('highpass', FINGERPRINT_RATE, HIGHPASS_HZ);

/**
 * One channel at the fingerprint rate: a zero-phase IIR low-pass at the recording's own rate, then
 * linear interpolation at the new sample times (the signal is band-limited far below either rate,
 * so interpolation adds no visible error), so any input rate works and the cost stays a few
 * operations per input sample.
 */
function lowRate(samples: Float32Array, rate: number): Float64Array {
  const low = filtfilt(butterworth('lowpass', rate, LOWPASS_HZ), samples, Math.round(rate));
  const n = Math.floor(((low.length - 1) * FINGERPRINT_RATE) / rate) + 1;
  const out = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const t = (k * rate) / FINGERPRINT_RATE;
    const i = Math.floor(t);
    const f = t - i;
    out[k] = (low[i] as number) * (1 - f) + (low[Math.min(i + 1, low.length - 1)] as number) * f;
  }
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
  return Int8Array.from(x, (v) => Math.max(-127, Math.min(127, Math.round((v - mean) * scale))));
}

/** The fingerprint of a montage-selected recording (at least a few seconds long). */
export function signalFingerprint(recording: Recording): SignalFingerprint {
  const channels = recording.channels.map((c) => quantise(filtfilt(highpass, lowRate(c.samples, recording.sampleRate), 2 * FINGERPRINT_RATE)));
  return { rate: FINGERPRINT_RATE, channels };
}

/** u8 version, u8 rate, u8 channels, u32 samples per channel, then the samples channel by channel. */
export function packFingerprint(f: SignalFingerprint): Buffer {
  const length = f.channels[0]?.length ?? 0;
  const out = Buffer.alloc(7 + f.channels.length * length);
  out.writeUInt8(FORMAT_VERSION, 0);
  out.writeUInt8(f.rate, 1);
  out.writeUInt8(f.channels.length, 2);
  out.writeUInt32LE(length, 3);
  f.channels.forEach((c, i) => out.set(new Uint8Array(c.buffer, c.byteOffset, c.length), 7 + i * length));
  return out;
}

export function unpackFingerprint(bytes: Buffer): SignalFingerprint {
  if (bytes.length < 7 || bytes.readUInt8(0) !== FORMAT_VERSION) throw new Error('not a signal fingerprint of a known format');
  const rate = bytes.readUInt8(1);
  const count = bytes.readUInt8(2);
  const length = bytes.readUInt32LE(3);
  if (bytes.length !== 7 + count * length) throw new Error('signal fingerprint of the wrong length');
  const values = new Int8Array(bytes.buffer, bytes.byteOffset + 7, count * length);
  return { rate, channels: Array.from({ length: count }, (_, i) => values.subarray(i * length, (i + 1) * length)) };
}
