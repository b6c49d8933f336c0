// Real EEG for the neural tests, cut at test time from the shared eegmat recordings (never
// committed): byte-exact EDF slices of whole 1 s data records, optionally with a little noise.
import { readFileSync } from 'node:fs';
import { sharedEegDir } from '../../scripts/neural/dataset.js';
import { decodeRecording } from '../../src/biometrics/neural/ingest.js';

const field = (bytes: Uint8Array, offset: number, width: number) => new TextDecoder('ascii').decode(bytes.subarray(offset, offset + width)).trim();
const put = (bytes: Uint8Array, offset: number, width: number, value: string | number) => bytes.set(new TextEncoder().encode(String(value).padEnd(width, ' ')), offset);

/** The shared recording SubjectNN_run.edf, e.g. eegFile(21, 1) for Subject21's resting run. */
export function eegFile(subject: number, run: 1 | 2): Uint8Array {
  return readFileSync(`${sharedEegDir()}/Subject${String(subject).padStart(2, '0')}_${run}.edf`);
}

function layout(edf: Uint8Array) {
  const headerBytes = Number(field(edf, 184, 8));
  const signals = Number(field(edf, 252, 4));
  const recordSeconds = Number(field(edf, 244, 8));
  let recordBytes = 0;
  for (let s = 0; s < signals; s++) recordBytes += 2 * Number(field(edf, 256 + signals * 216 + s * 8, 8));
  return { headerBytes, recordBytes, recordSeconds };
}

/** The EDF's data records `times` over, one after the other (a longer recording of the same person). */
export function repeatEdf(edf: Uint8Array, times: number): Uint8Array {
  const { headerBytes } = layout(edf);
  const records = Number(field(edf, 236, 8));
  const data = edf.subarray(headerBytes);
  const out = new Uint8Array(headerBytes + times * data.length);
  out.set(edf.subarray(0, headerBytes));
  put(out, 236, 8, times * records);
  for (let i = 0; i < times; i++) out.set(data, headerBytes + i * data.length);
  return out;
}

/**
 * Seconds [start, start + seconds) of an EDF with 1 s records, as a new EDF. `noise` adds up to
 * ±noise digital units to every sample (eegmat: about 0.002 µV per unit).
 */
export function cutEdf(edf: Uint8Array, start: number, seconds: number, opts: { noise?: number; seed?: number } = {}): Uint8Array {
  const { headerBytes, recordBytes, recordSeconds } = layout(edf);
  const first = Math.round(start / recordSeconds);
  const count = Math.round(seconds / recordSeconds);
  const out = new Uint8Array(headerBytes + count * recordBytes);
  out.set(edf.subarray(0, headerBytes));
  put(out, 236, 8, count);
  out.set(edf.subarray(headerBytes + first * recordBytes, headerBytes + (first + count) * recordBytes), headerBytes);
  if (opts.noise) {
    let state = opts.seed ?? 7;
    const view = new DataView(out.buffer);
    // The last signal is the EDF+ annotations (text): only the samples before it are touched.
    const signals = Number(field(out, 252, 4));
    const annotationBytes = 2 * Number(field(out, 256 + signals * 216 + (signals - 1) * 8, 8));
    for (let r = 0; r < count; r++) {
      const base = headerBytes + r * recordBytes;
      for (let o = base; o < base + recordBytes - annotationBytes; o += 2) {
        state = (state * 1103515245 + 12345) & 0x7fffffff;
        const delta = (state % (2 * opts.noise + 1)) - opts.noise;
        view.setInt16(o, Math.max(-32768, Math.min(32767, view.getInt16(o, true) + delta)), true);
      }
    }
  }
  return out;
}

/** The same samples in the device JSON format (channel-major, microvolts). */
export function edfToJsonSamples(edf: Uint8Array): { sampleRate: number; channels: string[]; samples: number[][] } {
  const recording = decodeRecording(edf);
  return { sampleRate: recording.sampleRate, channels: recording.channels.map((c) => c.label), samples: recording.channels.map((c) => Array.from(c.samples)) };
}

/** The EDF's fixed and signal headers describing `records` data records: what a 2-hour file starts with. */
export function edfHeaderFor(edf: Uint8Array, records: number): { header: Uint8Array; recordBytes: number } {
  const { headerBytes, recordBytes } = layout(edf);
  const header = edf.slice(0, headerBytes);
  put(header, 236, 8, records);
  return { header, recordBytes };
}
