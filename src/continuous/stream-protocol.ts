// The wire format of a continuous-verification stream (issue 11) and the WebSocket close codes
// of the whole feature: the ones decoding gives here, and the ones the transport uses.
//
//   1. first message, text:  {"type":"hello","sampleRate":500,"channels":["Fp1","Fp2",…]}
//   2. then binary frames:   uint32 sequence (little-endian; 0, 1, 2, …)
//                            float32 samples, little-endian, interleaved: sample 0 of every
//                            declared channel in hello order, then sample 1, … (µV)
import { endianness } from 'node:os';
import { NeuralInputError } from '../biometrics/neural/errors.js';
import { canResample } from '../biometrics/neural/filters.js';
import { montageIndices, type Montage } from '../biometrics/neural/montage.js';
import type { QualityPolicy } from '../biometrics/neural/quality.js';

/** Every close code of a continuous-verification WebSocket (4000–4999, application-defined). */
export const CLOSE_CODES = {
  /** Not a valid hello, a binary frame too short for its header or holding a non-finite sample, or no samples at all. */
  malformed: 4000,
  /** A text frame after the hello, or a binary frame before it. */
  unexpected_frame: 4001,
  /** A frame's samples are not a whole number of declared-channel rows. */
  channel_count: 4002,
  /** The hello's channels do not name every electrode of the model's montage (or name one twice). */
  montage_not_covered: 4003,
  /** A sample rate that is not whole, outside the limits, or not convertible to the analysis rate. */
  sample_rate: 4004,
  /** A sequence number that is not the previous one plus one (a lost, repeated or reordered frame). */
  sequence_gap: 4005,
  /** A frame longer than MAX_FRAME_SECONDS of signal. */
  frame_too_large: 4006,
  /** Transport: no valid token. */
  unauthorised: 4401,
  /** Transport: a token for another session or device. */
  wrong_session: 4403,
  /** Transport: the session is already over (ended, logged out, expired). */
  session_over: 4404,
  /** Transport: nothing arrived for the policy's silenceSeconds. */
  silent: 4408,
  /** Verifier: confidence stayed below the floor for windowsBelowFloor windows. */
  low_confidence: 4410,
  /** Verifier: more consecutive artefact windows than the policy tolerates. */
  unusable_signal: 4411,
  /** Transport: too many streams (per session, account or server). */
  too_many_streams: 4429,
} as const;

export type CloseReason = keyof typeof CLOSE_CODES;
export type CloseCode = (typeof CLOSE_CODES)[CloseReason];

/** Why a stream is refused: the close code and a reason short enough for a close frame. */
export interface Refusal {
  readonly code: CloseCode;
  readonly reason: string;
}

/** A WebSocket close reason may hold at most 123 bytes of UTF-8. */
export const MAX_REASON_BYTES = 123;

/** The refusal for `kind`, its reason cut at a character boundary to fit a close frame. */
export function refusal(kind: CloseReason, reason: string): Refusal {
  let text = reason;
  while (Buffer.byteLength(text, 'utf8') > MAX_REASON_BYTES) text = text.slice(0, -2) + '…';
  return { code: CLOSE_CODES[kind], reason: text };
}

export function isRefusal(x: unknown): x is Refusal {
  return typeof x === 'object' && x !== null && 'code' in x && 'reason' in x;
}

/** At most this much signal per frame: a device sends about one frame a second; more is buffering or abuse. */
export const MAX_FRAME_SECONDS = 4;
const MAX_HELLO_BYTES = 8192;
const MAX_CHANNELS = 256;

export interface Hello {
  readonly sampleRate: number;
  /** Labels as declared, in frame order. */
  readonly channels: readonly string[];
  /** For each montage electrode (montage order), its column in a frame. */
  readonly columns: readonly number[];
}

/**
 * Parses and checks the hello against the model's montage and the analysis rate. Whole rates only:
 * windows and their per-second statistics fall on whole seconds of samples.
 */
export function parseHello(text: string, montage: Montage, analysisRate: number, quality: QualityPolicy): Hello | Refusal {
  if (Buffer.byteLength(text, 'utf8') > MAX_HELLO_BYTES) return refusal('malformed', `hello is longer than ${MAX_HELLO_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return refusal('malformed', 'hello is not JSON');
  }
  if (typeof json !== 'object' || json === null || (json as { type?: unknown }).type !== 'hello') return refusal('malformed', 'the first message must be {"type":"hello",…}');
  const { sampleRate, channels } = json as { sampleRate?: unknown; channels?: unknown };
  if (!Array.isArray(channels) || channels.length === 0 || channels.length > MAX_CHANNELS || !channels.every((c) => typeof c === 'string' && c.length <= 64)) {
    return refusal('malformed', `hello.channels must list 1–${MAX_CHANNELS} channel labels`);
  }
  if (typeof sampleRate !== 'number' || !Number.isInteger(sampleRate)) return refusal('sample_rate', 'hello.sampleRate must be a whole number of Hz');
  if (sampleRate < quality.minSampleRate || sampleRate > quality.maxSampleRate) return refusal('sample_rate', `sample rate ${sampleRate} Hz is outside ${quality.minSampleRate}–${quality.maxSampleRate} Hz`);
  if (!canResample(sampleRate, analysisRate)) return refusal('sample_rate', `sample rate ${sampleRate} Hz cannot be converted to ${analysisRate} Hz`);
  try {
    return { sampleRate, channels: channels as string[], columns: montageIndices(channels as string[], montage) };
  } catch (err) {
    if (err instanceof NeuralInputError) return refusal('montage_not_covered', err.message);
    throw err;
  }
}

/** One decoded frame: its samples on the montage (montage order, µV). */
export interface Chunk {
  readonly sequence: number;
  readonly channels: Float32Array[];
}

const HEADER_BYTES = 4;

/** Decodes one stream's binary frames in order: the sequence must run 0, 1, 2, … without a gap or repeat. */
export class FrameDecoder {
  private expected = 0;
  private readonly maxBytes: number;

  constructor(private readonly hello: Hello) {
    this.maxBytes = HEADER_BYTES + MAX_FRAME_SECONDS * hello.sampleRate * hello.channels.length * 4;
  }

  decode(frame: Uint8Array): Chunk | Refusal {
    if (frame.length > this.maxBytes) return refusal('frame_too_large', `a frame may carry at most ${MAX_FRAME_SECONDS} s of signal (${this.maxBytes} bytes)`);
    if (frame.length <= HEADER_BYTES) return refusal('malformed', 'a frame needs a 4-byte sequence number and at least one sample');
    const width = this.hello.channels.length;
    if ((frame.length - HEADER_BYTES) % (4 * width) !== 0) return refusal('channel_count', `frame payload is not a whole number of ${width}-channel float32 samples`);
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    const sequence = view.getUint32(0, true);
    if (sequence !== this.expected) return refusal('sequence_gap', `frame ${sequence} arrived where ${this.expected} was due`);
    const samples = float32Samples(frame);
    const n = samples.length / width;
    // Only the montage's columns are used, but a non-finite value anywhere means a broken sender.
    for (let i = 0; i < samples.length; i++) {
      if (!Number.isFinite(samples[i]!)) return refusal('malformed', `sample ${i} of frame ${sequence} is not a finite number`);
    }
    const channels = this.hello.columns.map((column) => {
      const out = new Float32Array(n);
      for (let i = 0, at = column; i < n; i++, at += width) out[i] = samples[at]!;
      return out;
    });
    this.expected++;
    return { sequence, channels };
  }
}

const LITTLE_ENDIAN = endianness() === 'LE';

/** A frame's little-endian float32 samples (after the header): a view when the bytes allow one, else a copy. */
function float32Samples(frame: Uint8Array): Float32Array {
  const count = (frame.length - HEADER_BYTES) / 4;
  const offset = frame.byteOffset + HEADER_BYTES;
  if (!LITTLE_ENDIAN) {
    const view = new DataView(frame.buffer, offset, count * 4);
    return Float32Array.from({ length: count }, (_, i) => view.getFloat32(4 * i, true));
  }
  if (offset % 4 === 0) return new Float32Array(frame.buffer, offset, count);
  // A socket's bytes may start anywhere: one aligned copy.
  const aligned = new Uint8Array(count * 4);
  aligned.set(frame.subarray(HEADER_BYTES));
  return new Float32Array(aligned.buffer);
}

/** A frame as a device sends it (tests, benchmarks, evaluation and device clients). */
export function encodeFrame(sequence: number, channels: readonly ArrayLike<number>[]): Uint8Array {
  const n = channels[0]?.length ?? 0;
  const width = channels.length;
  const out = new Uint8Array(HEADER_BYTES + 4 * n * width);
  const view = new DataView(out.buffer);
  view.setUint32(0, sequence, true);
  for (let i = 0; i < n; i++) for (let c = 0; c < width; c++) view.setFloat32(HEADER_BYTES + 4 * (i * width + c), channels[c]![i] as number, true);
  return out;
}
