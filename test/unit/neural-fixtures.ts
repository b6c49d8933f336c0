/** Synthetic EEG for the neural-* tests: EDF files written byte by byte, and sinusoid recordings. */
import type { Recording } from '../../src/biometrics/neural/recording.js';
import { seededRandom } from '../../scripts/seeded-random.js';

export interface EdfSignalSpec {
  label: string;
  samplesPerRecord: number;
  physicalMin?: number;
  physicalMax?: number;
  digitalMin?: number;
  digitalMax?: number;
  dimension?: string;
  /** Digital value of sample i of the whole signal. */
  digital: (i: number) => number;
}

export interface EdfSpec {
  records: number;
  recordDuration?: number;
  reserved?: string;
  signals: EdfSignalSpec[];
  /** Overrides the header's record count field (e.g. -1), without changing the data written. */
  declaredRecords?: number;
}

function field(value: string | number, width: number): string {
  const text = String(value);
  if (text.length > width) throw new Error(`"${text}" does not fit in ${width} characters`);
  return text.padEnd(width, ' ');
}

export function buildEdf(spec: EdfSpec): Uint8Array {
  const ns = spec.signals.length;
  const fixed =
    field('0', 8) +
    field('X X X X', 80) +
    field('Startdate X X X X', 80) +
    field('01.01.11', 8) +
    field('00.00.00', 8) +
    field(256 * (ns + 1), 8) +
    field(spec.reserved ?? 'EDF+C', 44) +
    field(spec.declaredRecords ?? spec.records, 8) +
    field(spec.recordDuration ?? 1, 8) +
    field(ns, 4);
  const column = (width: number, f: (s: EdfSignalSpec) => string | number): string => spec.signals.map((s) => field(f(s), width)).join('');
  const signalHeader =
    column(16, (s) => s.label) +
    column(80, () => '') +
    column(8, (s) => s.dimension ?? 'uV') +
    column(8, (s) => s.physicalMin ?? -3276.8) +
    column(8, (s) => s.physicalMax ?? 3276.7) +
    column(8, (s) => s.digitalMin ?? -32768) +
    column(8, (s) => s.digitalMax ?? 32767) +
    column(80, () => '') +
    column(8, (s) => s.samplesPerRecord) +
    column(32, () => '');
  const header = new TextEncoder().encode(fixed + signalHeader);
  const recordBytes = spec.signals.reduce((n, s) => n + 2 * s.samplesPerRecord, 0);
  const out = new Uint8Array(header.length + spec.records * recordBytes);
  out.set(header);
  const view = new DataView(out.buffer);
  let offset = header.length;
  for (let r = 0; r < spec.records; r++) {
    for (const s of spec.signals) {
      for (let k = 0; k < s.samplesPerRecord; k++) {
        view.setInt16(offset, s.digital(r * s.samplesPerRecord + k), true);
        offset += 2;
      }
    }
  }
  return out;
}

export function sine(sampleRate: number, seconds: number, components: { hz: number; amplitude: number }[]): Float64Array {
  const n = Math.round(sampleRate * seconds);
  return Float64Array.from({ length: n }, (_, i) => components.reduce((sum, c) => sum + c.amplitude * Math.sin((2 * Math.PI * c.hz * i) / sampleRate), 0));
}

/** EEG-like channels: 10 µV alpha plus 10 µV of deterministic broadband noise per channel. */
export function syntheticRecording(labels: readonly string[], sampleRate: number, seconds: number, seed = 1): Recording {
  const random = seededRandom(seed);
  const n = Math.round(sampleRate * seconds);
  return {
    sampleRate,
    channels: labels.map((label, c) => ({
      label,
      samples: Float32Array.from({ length: n }, (_, i) => 10 * Math.sin((2 * Math.PI * 10 * i) / sampleRate + c) + 10 * (random() * 2 - 1) * Math.sqrt(3)),
    })),
  };
}
