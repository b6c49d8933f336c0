import { parseEdf, type EdfFile } from './edf.js';
import { NeuralInputError } from './errors.js';
import { electrodeName } from './montage.js';
import { assertFinite, defaultIngestLimits, type Channel, type IngestLimits, type Recording } from './recording.js';
import { isBinarySamples, parseBinarySamples, parseJsonSamples } from './samples-format.js';

const MICROVOLTS_PER: Record<string, number> = { nv: 1e-3, uv: 1, 'µv': 1, 'μv': 1, mv: 1e3, v: 1e6 };

/**
 * EEG electrodes of an EDF file as a Recording in microvolts. Non-electrode signals (ECG,
 * bipolar reference channels) are dropped, so their sample rate does not matter.
 */
export function edfToRecording(edf: EdfFile): Recording {
  const channels: Channel[] = [];
  const rates = new Set<number>();
  for (const signal of edf.signals) {
    if (electrodeName(signal.label) === null) continue;
    const scale = MICROVOLTS_PER[signal.physicalDimension.toLowerCase()];
    if (scale === undefined) {
      throw new NeuralInputError('edf_unsupported', `signal "${signal.label}" has physical dimension "${signal.physicalDimension}", not a voltage`);
    }
    const samples = scale === 1 ? signal.samples : signal.samples.map((v) => v * scale);
    channels.push({ label: signal.label, samples });
    rates.add(signal.sampleRate);
  }
  if (channels.length === 0) {
    throw new NeuralInputError('channels_missing', 'the EDF file has no 10-20 EEG electrode signals');
  }
  if (rates.size > 1) {
    throw new NeuralInputError('sample_rate_mixed', `EEG signals use different sample rates (${[...rates].join(', ')} Hz)`);
  }
  const recording = { sampleRate: [...rates][0] as number, channels };
  assertFinite(recording);
  return recording;
}

/**
 * Decodes an upload by content: EDF (starts with "0       "), the binary samples format
 * (magic "TEEG"), or JSON samples. The format is sniffed, not trusted from a filename.
 */
export function decodeRecording(data: Uint8Array, limits: IngestLimits = defaultIngestLimits): Recording {
  if (data.length > limits.maxBytes) {
    throw new NeuralInputError('recording_too_large', `upload is ${data.length} bytes; the limit is ${limits.maxBytes}`);
  }
  if (isBinarySamples(data)) return parseBinarySamples(data, limits);
  const first = data.find((b) => b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d);
  if (first === 0x7b /* { */) return parseJsonSamples(new TextDecoder().decode(data), limits);
  return edfToRecording(parseEdf(data, limits));
}
