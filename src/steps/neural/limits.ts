import { defaultQualityPolicy } from '../../biometrics/neural/quality.js';
import type { IngestLimits } from '../../biometrics/neural/recording.js';

// 16 MiB holds a 10-minute, 21-signal, 500 Hz EDF (12.6 MB); a 2-hour recording is refused unread.
export const NEURAL_MAX_BYTES = 16 * 1024 * 1024;

/** What the neural step accepts, shared with device clients so they can check before sending. */
export const neuralIngestLimits: IngestLimits = { maxBytes: NEURAL_MAX_BYTES, maxDurationSeconds: defaultQualityPolicy.maxDurationSeconds, maxChannels: 256 };
