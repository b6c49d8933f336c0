import { NeuralInputError } from '../../src/biometrics/neural/errors.js';
import type { FeatureConfig } from '../../src/biometrics/neural/features.js';
import type { SignalConfig } from '../../src/biometrics/neural/preprocess.js';
import type { QualityPolicy } from '../../src/biometrics/neural/quality.js';
import { durationSeconds, sliceRecording, type Recording } from '../../src/biometrics/neural/recording.js';
import { windowFeatures } from '../../src/biometrics/neural/window-features.js';
import { loadEdf, type SubjectFiles } from './dataset.js';
import { protocol } from './protocol.js';

/** Features of every 10 s slice (every 5 s) of one run; each slice is processed as if uploaded alone. */
export interface RunFeatures {
  durationSeconds: number;
  byStart: Map<number, Float32Array>;
  rejected: number;
}

export interface SubjectFeatures {
  id: string;
  rest: RunFeatures;
  task: RunFeatures;
}

const SLICE_STEP_SECONDS = 5;

function runFeatures(recording: Recording, signal: SignalConfig, features: FeatureConfig, policy: QualityPolicy): RunFeatures {
  const duration = durationSeconds(recording);
  const byStart = new Map<number, Float32Array>();
  let rejected = 0;
  for (let t = 0; t + protocol.windowSeconds <= duration; t += SLICE_STEP_SECONDS) {
    try {
      const slice = sliceRecording(recording, t, protocol.windowSeconds);
      const [feature] = windowFeatures(slice, signal, features, policy, protocol.windowSeconds).features;
      if (feature !== undefined) byStart.set(t, feature);
    } catch (err) {
      if (!(err instanceof NeuralInputError)) throw err;
      rejected++;
    }
  }
  return { durationSeconds: duration, byStart, rejected };
}

export async function subjectFeatures(files: SubjectFiles, signal: SignalConfig, features: FeatureConfig, policy: QualityPolicy): Promise<SubjectFeatures> {
  return {
    id: files.id,
    rest: runFeatures(await loadEdf(files.rest), signal, features, policy),
    task: runFeatures(await loadEdf(files.task), signal, features, policy),
  };
}
