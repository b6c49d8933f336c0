/**
 * Every way a neural-signal input can be refused, as a stable machine-readable code.
 * Callers (the neural step, the audit log, the capture endpoint) switch on `code`;
 * `message` is for people.
 */
export type NeuralRejectionCode =
  | 'edf_not_edf'
  | 'edf_header_malformed'
  | 'edf_unsupported'
  | 'edf_truncated'
  | 'edf_size_mismatch'
  | 'samples_malformed'
  | 'samples_nonfinite'
  | 'recording_too_large'
  | 'content_type_unsupported'
  | 'recording_too_long'
  | 'recording_too_short'
  | 'sample_rate_unsupported'
  | 'sample_rate_mixed'
  | 'channels_missing'
  | 'channels_ambiguous'
  | 'channel_flat'
  | 'channel_saturated'
  | 'channel_disconnected'
  | 'line_noise'
  | 'amplitude_artifact'
  | 'no_clean_window'
  | 'model_invalid';

export interface NeuralRejection {
  code: NeuralRejectionCode;
  message: string;
  /** Channel concerned, when the rejection is about one channel. */
  channel?: string;
}

export class NeuralInputError extends Error {
  readonly code: NeuralRejectionCode;
  /** All problems found, when more than one was detected at once (e.g. several bad channels). */
  readonly rejections: readonly NeuralRejection[];

  constructor(code: NeuralRejectionCode, message: string, rejections?: readonly NeuralRejection[]) {
    super(message);
    this.name = 'NeuralInputError';
    this.code = code;
    this.rejections = rejections ?? [{ code, message }];
  }
}
