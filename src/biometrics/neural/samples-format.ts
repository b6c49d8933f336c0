import { NeuralInputError } from './errors.js';
import { assertFinite, defaultIngestLimits, type IngestLimits, type Recording } from './recording.js';

/**
 * Device formats, for headsets whose companion app does not write EDF.
 *
 * JSON: { "sampleRate": 256, "channels": ["Fp1", ...], "samples": [[µV, ...], ...] }
 *   `samples` is channel-major: one array per channel, all of equal length, values in microvolts.
 *
 * Binary (little-endian): "TEEG" magic, u8 version (1), u8 channel count, u16 reserved (0),
 *   f32 sample rate, u32 samples per channel, then 16-byte ASCII labels (NUL/space padded),
 *   then float32 samples channel-major in microvolts.
 */

const MAGIC = [0x54, 0x45, 0x45, 0x47]; // "TEEG"
const BINARY_VERSION = 1;
const BINARY_HEADER_BYTES = 16;
const LABEL_BYTES = 16;

function checkShape(sampleRate: number, channelCount: number, perChannel: number, limits: IngestLimits): void {
  if (!(sampleRate > 0) || !Number.isFinite(sampleRate)) {
    throw new NeuralInputError('samples_malformed', `sample rate must be a positive number, got ${sampleRate}`);
  }
  if (channelCount < 1 || channelCount > limits.maxChannels) {
    throw new NeuralInputError('samples_malformed', `channel count ${channelCount} is outside 1..${limits.maxChannels}`);
  }
  const duration = perChannel / sampleRate;
  if (duration > limits.maxDurationSeconds) {
    throw new NeuralInputError('recording_too_long', `recording lasts ${duration.toFixed(1)} s; the limit is ${limits.maxDurationSeconds} s`);
  }
}

export function parseJsonSamples(text: string, limits: IngestLimits = defaultIngestLimits): Recording {
  if (text.length > limits.maxBytes) {
    throw new NeuralInputError('recording_too_large', `upload is ${text.length} bytes; the limit is ${limits.maxBytes}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new NeuralInputError('samples_malformed', `samples are not valid JSON: ${(err as Error).message}`);
  }
  if (typeof body !== 'object' || body === null) {
    throw new NeuralInputError('samples_malformed', 'samples JSON must be an object');
  }
  const { sampleRate, channels, samples } = body as Record<string, unknown>;
  if (typeof sampleRate !== 'number') {
    throw new NeuralInputError('samples_malformed', '"sampleRate" must be a number');
  }
  if (!Array.isArray(channels) || !channels.every((c): c is string => typeof c === 'string' && c.length > 0)) {
    throw new NeuralInputError('samples_malformed', '"channels" must be an array of channel labels');
  }
  if (!Array.isArray(samples) || samples.length !== channels.length) {
    throw new NeuralInputError('samples_malformed', `"samples" must hold one array per channel (${channels.length})`);
  }
  const perChannel = Array.isArray(samples[0]) ? samples[0].length : 0;
  checkShape(sampleRate, channels.length, perChannel, limits);
  const recording: Recording = {
    sampleRate,
    channels: channels.map((label, c) => {
      const values: unknown = samples[c];
      if (!Array.isArray(values) || values.length !== perChannel) {
        throw new NeuralInputError('samples_malformed', `channel ${label} must have ${perChannel} samples like the first channel`);
      }
      const out = new Float32Array(perChannel);
      for (let i = 0; i < perChannel; i++) {
        const v: unknown = values[i];
        // JSON has no NaN literal: devices send null or strings for missing values; "1e999" parses to Infinity.
        if (typeof v !== 'number' || !Number.isFinite(v)) {
          throw new NeuralInputError('samples_nonfinite', `channel ${label} sample ${i} is not a finite number (${JSON.stringify(v) ?? String(v)})`);
        }
        out[i] = v;
      }
      return { label, samples: out };
    }),
  };
  // float32 overflow (|v| > 3.4e38) becomes Infinity after narrowing.
  assertFinite(recording);
  return recording;
}

export function isBinarySamples(data: Uint8Array): boolean {
  return data.length >= 4 && MAGIC.every((b, i) => data[i] === b);
}

export function parseBinarySamples(data: Uint8Array, limits: IngestLimits = defaultIngestLimits): Recording {
  if (data.length > limits.maxBytes) {
    throw new NeuralInputError('recording_too_large', `upload is ${data.length} bytes; the limit is ${limits.maxBytes}`);
  }
  if (!isBinarySamples(data) || data.length < BINARY_HEADER_BYTES) {
    throw new NeuralInputError('samples_malformed', 'binary samples must start with the 16-byte "TEEG" header');
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const version = view.getUint8(4);
  if (version !== BINARY_VERSION) {
    throw new NeuralInputError('samples_malformed', `binary samples version ${version} is not supported (expected ${BINARY_VERSION})`);
  }
  const channelCount = view.getUint8(5);
  const sampleRate = view.getFloat32(8, true);
  const perChannel = view.getUint32(12, true);
  checkShape(sampleRate, channelCount, perChannel, limits);
  const expected = BINARY_HEADER_BYTES + channelCount * LABEL_BYTES + channelCount * perChannel * 4;
  if (data.length !== expected) {
    throw new NeuralInputError(
      'samples_malformed',
      `binary samples are ${data.length} bytes; ${channelCount} channels × ${perChannel} samples need ${expected}`,
    );
  }
  const labels: string[] = [];
  for (let c = 0; c < channelCount; c++) {
    const start = BINARY_HEADER_BYTES + c * LABEL_BYTES;
    const label = new TextDecoder('ascii').decode(data.subarray(start, start + LABEL_BYTES)).replace(/[\0 ]+$/, '');
    if (label === '') throw new NeuralInputError('samples_malformed', `channel ${c} has an empty label`);
    labels.push(label);
  }
  const samplesStart = BINARY_HEADER_BYTES + channelCount * LABEL_BYTES;
  const recording: Recording = {
    sampleRate,
    channels: labels.map((label, c) => {
      const out = new Float32Array(perChannel);
      const base = samplesStart + c * perChannel * 4;
      for (let i = 0; i < perChannel; i++) out[i] = view.getFloat32(base + 4 * i, true);
      return { label, samples: out };
    }),
  };
  assertFinite(recording);
  return recording;
}

/** Encoder for the binary format (used by device clients and tests). */
export function encodeBinarySamples(recording: Recording): Uint8Array {
  const channelCount = recording.channels.length;
  const perChannel = recording.channels[0]?.samples.length ?? 0;
  const out = new Uint8Array(BINARY_HEADER_BYTES + channelCount * LABEL_BYTES + channelCount * perChannel * 4);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint8(4, BINARY_VERSION);
  view.setUint8(5, channelCount);
  view.setFloat32(8, recording.sampleRate, true);
  view.setUint32(12, perChannel, true);
  recording.channels.forEach((channel, c) => {
    const label = new TextEncoder().encode(channel.label.slice(0, LABEL_BYTES));
    out.set(label, BINARY_HEADER_BYTES + c * LABEL_BYTES);
    const base = BINARY_HEADER_BYTES + channelCount * LABEL_BYTES + c * perChannel * 4;
    channel.samples.forEach((v, i) => view.setFloat32(base + 4 * i, v, true));
  });
  return out;
}
