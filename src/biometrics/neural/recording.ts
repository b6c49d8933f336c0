import { NeuralInputError } from './errors.js';

/** One EEG channel: its label as delivered and its samples in microvolts. */
export interface Channel {
  label: string;
  samples: Float32Array;
}

/**
 * A multi-channel EEG recording at a single sample rate, samples in microvolts.
 * Every ingestion path (EDF, JSON, binary) ends here, so later stages never see
 * format details.
 */
export interface Recording {
  sampleRate: number;
  channels: Channel[];
}

/** Limits applied while decoding, before any large allocation. */
export interface IngestLimits {
  maxBytes: number;
  maxDurationSeconds: number;
  maxChannels: number;
}

/** 10 minutes is far more than a login needs; a 2-hour upload is refused before decoding. */
export const defaultIngestLimits: IngestLimits = {
  maxBytes: 64 * 1024 * 1024,
  maxDurationSeconds: 600,
  maxChannels: 256,
};

export function durationSeconds(recording: Recording): number {
  const first = recording.channels[0];
  return first === undefined ? 0 : first.samples.length / recording.sampleRate;
}

/** Time slice [startSeconds, startSeconds + lengthSeconds) of every channel, without copying. */
export function sliceRecording(recording: Recording, startSeconds: number, lengthSeconds: number): Recording {
  const start = Math.round(startSeconds * recording.sampleRate);
  const end = start + Math.round(lengthSeconds * recording.sampleRate);
  return {
    sampleRate: recording.sampleRate,
    channels: recording.channels.map((c) => {
      if (end > c.samples.length) {
        throw new NeuralInputError('recording_too_short', `slice ends at ${end} samples but channel ${c.label} has ${c.samples.length}`);
      }
      return { label: c.label, samples: c.samples.subarray(start, end) };
    }),
  };
}

/** Rejects NaN/Infinity anywhere: they would silently poison every filter and feature downstream. */
export function assertFinite(recording: Recording): void {
  for (const channel of recording.channels) {
    const s = channel.samples;
    for (let i = 0; i < s.length; i++) {
      if (!Number.isFinite(s[i])) {
        throw new NeuralInputError('samples_nonfinite', `channel ${channel.label} has a non-finite sample at index ${i}`);
      }
    }
  }
}
