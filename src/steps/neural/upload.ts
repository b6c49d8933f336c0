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
