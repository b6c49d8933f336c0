import { NeuralInputError } from '../../biometrics/neural/errors.js';
import { decodeRecording } from '../../biometrics/neural/ingest.js';
import { checkShape, defaultQualityPolicy } from '../../biometrics/neural/quality.js';
import type { IngestLimits, Recording } from '../../biometrics/neural/recording.js';

// 16 MiB holds a 10-minute, 21-signal, 500 Hz EDF (12.6 MB); a 2-hour recording is refused unread.
export const NEURAL_MAX_BYTES = 16 * 1024 * 1024;

const limits: IngestLimits = { maxBytes: NEURAL_MAX_BYTES, maxDurationSeconds: defaultQualityPolicy.maxDurationSeconds, maxChannels: 256 };

/**
 * An uploaded recording as the neural step accepts it: format, size, finite samples, sample rate
 * and duration checked (channels are the model's business). Shared with device clients so they
 * can refuse a file before sending it. Throws NeuralInputError naming every problem.
 */
export function decodeUpload(data: Uint8Array): Recording {
  const recording = decodeRecording(data, limits);
  const shape = checkShape(recording, defaultQualityPolicy);
  if (shape.length > 0) throw new NeuralInputError(shape[0]!.code, shape.map((r) => r.message).join('; '), shape);
  return recording;
}

// What a recording may be declared as: EDF, the JSON or binary samples format, or nothing specific
// (the format is sniffed from the bytes). An image, a web page or a form is not a recording.
const RECORDING_TYPES = new Set(['application/octet-stream', 'application/json', 'application/edf', 'application/x-edf', 'application/vnd.edf', 'text/plain']);

/** Why an upload declared as `contentType` cannot be a recording; undefined when it may be one. */
export function contentTypeProblem(contentType: string): string | undefined {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (type === '' || RECORDING_TYPES.has(type)) return undefined;
  return `the upload is declared as ${type}, not an EEG recording (send EDF, or the JSON or binary samples format, as application/octet-stream or application/json)`;
}

/** Throws NeuralInputError when an upload declares a content type no recording has. */
export function checkContentType(contentType: string): void {
  const problem = contentTypeProblem(contentType);
  if (problem) throw new NeuralInputError('content_type_unsupported', problem);
}
