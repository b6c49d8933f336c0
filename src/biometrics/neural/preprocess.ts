import { NeuralInputError, type NeuralRejection } from './errors.js';
import { butterworth, canResample, filtfilt, notch, resample, type Biquad } from './filters.js';
import { selectMontage, type Montage } from './montage.js';
import { assertFinite, type Recording } from './recording.js';
import { checkDisconnected, checkLineNoise, checkRawChannels, checkShape, checkWindow, MAINS_HZ, type QualityPolicy } from './quality.js';

/** How a recording becomes analysis windows; fixed per model (stored in its ONNX metadata). */
export interface SignalConfig {
  montage: Montage;
  /** Every recording is resampled to this rate, whatever the headset delivers. */
  analysisRate: number;
  highpassHz: number;
  lowpassHz: number;
  windowSeconds: number;
}

export interface PreparedSignal {
  sampleRate: number;
  labels: string[];
  channels: Float64Array[];
}

export interface AnalysisWindow {
  startSeconds: number;
  channels: Float64Array[];
  /** Set when the window is unusable; such windows never reach the model. */
  rejection: NeuralRejection | null;
}

function fail(rejections: NeuralRejection[]): never {
  const first = rejections[0] as NeuralRejection;
  const message = rejections.length === 1 ? first.message : `${rejections.length} problems: ${rejections.map((r) => r.message).join('; ')}`;
  throw new NeuralInputError(first.code, message, rejections);
}

/**
 * The mains notches and the band-pass, at the analysis rate: run forward and backward on an
 * upload, twice forward on a stream (the same magnitude response; see src/continuous/).
 */
export function analysisFilter(config: SignalConfig): Biquad[] {
  const rate = config.analysisRate;
  return [
    ...MAINS_HZ.filter((f) => f < rate / 2).flatMap((f) => notch(rate, f)),
    ...butterworth('highpass', rate, config.highpassHz),
    ...butterworth('lowpass', rate, config.lowpassHz),
  ];
}

/**
 * Montage selection, quality checks, resampling to the analysis rate, mains notches (50 and
 * 60 Hz: the headset's country is unknown) and a zero-phase Butterworth band-pass.
 * Throws NeuralInputError listing every problem found.
 */
export function prepare(recording: Recording, config: SignalConfig, policy: QualityPolicy): PreparedSignal {
  assertFinite(recording);
  const selected = selectMontage(recording, config.montage);
  const shape = checkShape(selected, policy);
  if (!canResample(selected.sampleRate, config.analysisRate)) {
    shape.push({ code: 'sample_rate_unsupported', message: `sample rate ${selected.sampleRate} Hz cannot be converted to ${config.analysisRate} Hz by a small rational factor` });
  }
  if (shape.length > 0) fail(shape);
  const raw = checkRawChannels(selected, policy);
  if (raw.length > 0) fail(raw);

  const rate = config.analysisRate;
  const sections = analysisFilter(config);
  const labels = selected.channels.map((c) => c.label);
  const channels = selected.channels.map((c) => filtfilt(sections, resample(c.samples, selected.sampleRate, rate), rate));
  const contact = [...checkLineNoise(selected, channels, policy), ...checkDisconnected(labels, channels, policy)];
  if (contact.length > 0) fail(contact);
  return { sampleRate: rate, labels, channels };
}

/** Windows of `windowSeconds` every `stepSeconds`, each checked for amplitude artefacts. */
export function windows(prepared: PreparedSignal, windowSeconds: number, stepSeconds: number, policy: QualityPolicy): AnalysisWindow[] {
  const length = Math.round(windowSeconds * prepared.sampleRate);
  const step = Math.round(stepSeconds * prepared.sampleRate);
  const total = prepared.channels[0]?.length ?? 0;
  const out: AnalysisWindow[] = [];
  for (let start = 0; start + length <= total; start += step) {
    const channels = prepared.channels.map((c) => c.subarray(start, start + length));
    out.push({ startSeconds: start / prepared.sampleRate, channels, rejection: checkWindow(prepared.labels, channels, policy) });
  }
  return out;
}
