import { NeuralInputError, type NeuralRejection } from './errors.js';
import { windowFeatureVector, type FeatureConfig } from './features.js';
import { prepare, windows, type SignalConfig } from './preprocess.js';
import type { QualityPolicy } from './quality.js';
import type { Recording } from './recording.js';

export interface WindowFeatures {
  features: Float32Array[];
  rejected: NeuralRejection[];
}

/**
 * Features of every clean analysis window of a recording, windows every `stepSeconds`.
 * Artefact windows are reported, never scored; a recording with none left fails closed.
 */
export function windowFeatures(
  recording: Recording,
  signal: SignalConfig,
  features: FeatureConfig,
  policy: QualityPolicy,
  stepSeconds: number,
): WindowFeatures {
  const prepared = prepare(recording, signal, policy);
  const all = windows(prepared, signal.windowSeconds, stepSeconds, policy);
  const rejected = all.flatMap((w) => (w.rejection === null ? [] : [w.rejection]));
  const clean = all.filter((w) => w.rejection === null);
  if (clean.length === 0) {
    const reason = rejected[0];
    throw new NeuralInputError('no_clean_window', `no artefact-free ${signal.windowSeconds} s window${reason ? `: ${reason.message}` : ''}`, rejected);
  }
  return { features: clean.map((w) => windowFeatureVector(w.channels, prepared.sampleRate, features)), rejected };
}
