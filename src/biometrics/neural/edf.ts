import { NeuralInputError } from './errors.js';
import { defaultIngestLimits, type IngestLimits } from './recording.js';

/**
 * EDF / EDF+ reader (https://www.edfplus.info/specs/): a 256-byte fixed header, 256 bytes per
 * signal, then data records of little-endian int16 samples, signal after signal.
 * Only continuous recordings (EDF or EDF+C) are accepted: the pipeline windows by time and
 * cannot bridge the gaps of EDF+D.
 */

export interface EdfSignal {
  label: string;
  transducer: string;
  physicalDimension: string;
  physicalMin: number;
  physicalMax: number;
  digitalMin: number;
  digitalMax: number;
  prefiltering: string;
  samplesPerRecord: number;
  sampleRate: number;
  /** Physical values in the signal's own dimension (see `physicalDimension`). */
  samples: Float32Array;
}

export interface EdfFile {
  variant: 'EDF' | 'EDF+C';
  patient: string;
  recordingId: string;
  startDate: string;
  startTime: string;
  recordCount: number;
  recordDurationSeconds: number;
  /** Ordinary signals; EDF+ annotation signals are skipped. */
  signals: EdfSignal[];
}

const FIXED_HEADER_BYTES = 256;
const SIGNAL_HEADER_BYTES = 256;
const ANNOTATIONS_LABEL = 'EDF Annotations';
const EDF_VERSION = [0x30, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20];

/** Reads consecutive fixed-width ASCII fields, naming the field in any error. */
class HeaderReader {
  private offset = 0;
  constructor(private readonly bytes: Uint8Array) {}

  text(width: number, field: string): string {
    const end = this.offset + width;
    if (end > this.bytes.length) {
      throw new NeuralInputError('edf_header_malformed', `EDF header ends inside field "${field}"`);
    }
    let out = '';
    for (let i = this.offset; i < end; i++) {
      const b = this.bytes[i] as number;
      // The spec allows printable US-ASCII only; anything else means this is not an EDF header.
      if (b < 0x20 || b > 0x7e) {
        throw new NeuralInputError('edf_header_malformed', `EDF header field "${field}" contains a non-ASCII byte (0x${b.toString(16)})`);
      }
      out += String.fromCharCode(b);
    }
    this.offset = end;
    return out.trim();
  }

  number(width: number, field: string): number {
    const raw = this.text(width, field);
    const value = raw === '' ? Number.NaN : Number(raw);
    if (!Number.isFinite(value)) {
      throw new NeuralInputError('edf_header_malformed', `EDF header field "${field}" is not a number: "${raw}"`);
    }
    return value;
  }

  integer(width: number, field: string): number {
    const value = this.number(width, field);
    if (!Number.isInteger(value)) {
      throw new NeuralInputError('edf_header_malformed', `EDF header field "${field}" is not an integer: ${value}`);
    }
    return value;
  }

  /** Per-signal fields are stored column-wise: all labels, then all transducers, ... */
  texts(count: number, width: number, field: string): string[] {
    return Array.from({ length: count }, (_, i) => this.text(width, `${field}[${i}]`));
  }
  numbers(count: number, width: number, field: string): number[] {
    return Array.from({ length: count }, (_, i) => this.number(width, `${field}[${i}]`));
  }
  integers(count: number, width: number, field: string): number[] {
    return Array.from({ length: count }, (_, i) => this.integer(width, `${field}[${i}]`));
  }
}

export function parseEdf(data: Uint8Array, limits: IngestLimits = defaultIngestLimits): EdfFile {
  if (data.length > limits.maxBytes) {
    throw new NeuralInputError('recording_too_large', `upload is ${data.length} bytes; the limit is ${limits.maxBytes}`);
  }
  if (data.length < FIXED_HEADER_BYTES) {
    throw new NeuralInputError('edf_not_edf', `${data.length} bytes is shorter than an EDF header (256 bytes)`);
  }
  // The version field is the only magic number EDF has: "0" and seven spaces (BDF starts 0xFF "BIOSEMI").
  if (!EDF_VERSION.every((b, i) => data[i] === b)) {
    throw new NeuralInputError('edf_not_edf', 'not an EDF file: it does not start with the EDF version field "0       "');
  }
  const header = new HeaderReader(data);
  header.text(8, 'version');
  const patient = header.text(80, 'patient');
  const recordingId = header.text(80, 'recording');
  const startDate = header.text(8, 'start date');
  const startTime = header.text(8, 'start time');
  const headerBytes = header.integer(8, 'header bytes');
  const reserved = header.text(44, 'reserved');
  const declaredRecords = header.integer(8, 'number of data records');
  const recordDurationSeconds = header.number(8, 'data record duration');
  const signalCount = header.integer(4, 'number of signals');

  if (reserved.startsWith('EDF+D')) {
    throw new NeuralInputError('edf_unsupported', 'discontinuous EDF+ (EDF+D) is not supported; send a continuous recording');
  }
  const variant = reserved.startsWith('EDF+C') ? 'EDF+C' : 'EDF';
  if (signalCount < 1 || signalCount > limits.maxChannels) {
    throw new NeuralInputError('edf_header_malformed', `number of signals ${signalCount} is outside 1..${limits.maxChannels}`);
  }
  const expectedHeaderBytes = FIXED_HEADER_BYTES + SIGNAL_HEADER_BYTES * signalCount;
  if (headerBytes !== expectedHeaderBytes) {
    throw new NeuralInputError('edf_header_malformed', `header size field says ${headerBytes} bytes; ${signalCount} signals need ${expectedHeaderBytes}`);
  }
  if (data.length < expectedHeaderBytes) {
    throw new NeuralInputError('edf_truncated', `file ends inside the signal headers (${data.length} of ${expectedHeaderBytes} bytes)`);
  }
  if (!(recordDurationSeconds > 0)) {
    throw new NeuralInputError('edf_header_malformed', `data record duration must be positive, got ${recordDurationSeconds}`);
  }

  const labels = header.texts(signalCount, 16, 'label');
  const transducers = header.texts(signalCount, 80, 'transducer');
  const dimensions = header.texts(signalCount, 8, 'physical dimension');
  const physicalMins = header.numbers(signalCount, 8, 'physical minimum');
  const physicalMaxs = header.numbers(signalCount, 8, 'physical maximum');
  const digitalMins = header.integers(signalCount, 8, 'digital minimum');
  const digitalMaxs = header.integers(signalCount, 8, 'digital maximum');
  const prefilters = header.texts(signalCount, 80, 'prefiltering');
  const samplesPerRecord = header.integers(signalCount, 8, 'samples per record');
  header.texts(signalCount, 32, 'signal reserved');

  for (let i = 0; i < signalCount; i++) {
    const label = labels[i] as string;
    const dMin = digitalMins[i] as number;
    const dMax = digitalMaxs[i] as number;
    if ((samplesPerRecord[i] as number) < 1) {
      throw new NeuralInputError('edf_header_malformed', `signal "${label}" has ${samplesPerRecord[i]} samples per record`);
    }
    if (dMin < -32768 || dMax > 32767 || dMax <= dMin) {
      throw new NeuralInputError('edf_header_malformed', `signal "${label}" has an invalid digital range ${dMin}..${dMax}`);
    }
    if (physicalMaxs[i] === physicalMins[i]) {
      throw new NeuralInputError('edf_header_malformed', `signal "${label}" has an empty physical range`);
    }
  }

  const recordBytes = samplesPerRecord.reduce((sum, n) => sum + 2 * n, 0);
  const dataBytes = data.length - expectedHeaderBytes;
  // -1 means "unknown" (a recorder that crashed before updating the header): infer from the size.
  const recordCount = declaredRecords === -1 ? Math.floor(dataBytes / recordBytes) : declaredRecords;
  if (recordCount < 1) {
    throw new NeuralInputError('edf_header_malformed', `number of data records is ${declaredRecords}; at least one is needed`);
  }
  const duration = recordCount * recordDurationSeconds;
  if (duration > limits.maxDurationSeconds) {
    throw new NeuralInputError('recording_too_long', `recording lasts ${duration} s; the limit is ${limits.maxDurationSeconds} s`);
  }
  const expectedDataBytes = recordCount * recordBytes;
  if (dataBytes < expectedDataBytes) {
    throw new NeuralInputError('edf_truncated', `data records are truncated: ${dataBytes} bytes present, ${expectedDataBytes} expected for ${recordCount} records`);
  }
  if (dataBytes > expectedDataBytes && declaredRecords !== -1) {
    throw new NeuralInputError('edf_size_mismatch', `file has ${dataBytes - expectedDataBytes} bytes beyond its ${recordCount} declared data records`);
  }

  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const signals: EdfSignal[] = [];
  // Byte offset of each signal inside one data record.
  const offsets: number[] = [];
  let running = 0;
  for (const n of samplesPerRecord) {
    offsets.push(running);
    running += 2 * n;
  }

  for (let s = 0; s < signalCount; s++) {
    const label = labels[s] as string;
    if (label === ANNOTATIONS_LABEL) continue;
    const perRecord = samplesPerRecord[s] as number;
    const pMin = physicalMins[s] as number;
    const pMax = physicalMaxs[s] as number;
    const dMin = digitalMins[s] as number;
    const dMax = digitalMaxs[s] as number;
    const gain = (pMax - pMin) / (dMax - dMin);
    const samples = new Float32Array(perRecord * recordCount);
    for (let r = 0; r < recordCount; r++) {
      const base = expectedHeaderBytes + r * recordBytes + (offsets[s] as number);
      for (let k = 0; k < perRecord; k++) {
        const digital = view.getInt16(base + 2 * k, true);
        samples[r * perRecord + k] = pMin + (digital - dMin) * gain;
      }
    }
    signals.push({
      label,
      transducer: transducers[s] as string,
      physicalDimension: dimensions[s] as string,
      physicalMin: pMin,
      physicalMax: pMax,
      digitalMin: dMin,
      digitalMax: dMax,
      prefiltering: prefilters[s] as string,
      samplesPerRecord: perRecord,
      sampleRate: perRecord / recordDurationSeconds,
      samples,
    });
  }
  return { variant, patient, recordingId, startDate, startTime, recordCount, recordDurationSeconds, signals };
}
