/**
 * What an attacker holding an earlier recording can do to it before submitting it again, on
 * decoded recordings (microvolts): cut it at any time (also between samples), rescale it, add
 * noise, relabel its channels, resample it, filter a band away, splice parts of two recordings. Shared by
 * `eval:neural-replay` and the unit tests, so both measure the same attacks.
 */
import { butterworth, filtfilt, resample } from '../../src/biometrics/neural/filters.js';
import type { Recording } from '../../src/biometrics/neural/recording.js';

const mapChannels = (r: Recording, f: (samples: Float32Array, index: number) => Float32Array): Recording => ({
  sampleRate: r.sampleRate,
  channels: r.channels.map((c, i) => ({ label: c.label, samples: f(c.samples, i) })),
});

export const durationOf = (r: Recording) => (r.channels[0]?.samples.length ?? 0) / r.sampleRate;

/**
 * Seconds [start, start + seconds) of a recording; a start between two samples is interpolated
 * linearly (a sub-sample shift).
 */
export function cut(r: Recording, start: number, seconds: number): Recording {
  const at = start * r.sampleRate;
  const first = Math.floor(at);
  const fraction = at - first;
  const n = Math.round(seconds * r.sampleRate);
  if (first < 0 || first + n + (fraction > 0 ? 1 : 0) > (r.channels[0]?.samples.length ?? 0)) throw new RangeError(`cut ${start}+${seconds} s lies outside the ${durationOf(r)} s recording`);
  return mapChannels(r, (s) => Float32Array.from({ length: n }, (_, i) => (s[first + i] as number) * (1 - fraction) + (fraction > 0 ? (s[first + i + 1] as number) * fraction : 0)));
}

/** The recording rotated by `seconds`: its end first, then its beginning. */
export function rotate(r: Recording, seconds: number): Recording {
  const k = Math.round(seconds * r.sampleRate);
  return mapChannels(r, (s) => {
    const out = new Float32Array(s.length);
    out.set(s.subarray(k));
    out.set(s.subarray(0, k), s.length - k);
    return out;
  });
}

export const scale = (r: Recording, factor: number): Recording => mapChannels(r, (s) => s.map((v) => v * factor));

/** White Gaussian noise on every channel, `snrDb` below that channel's own power. */
export function addNoise(r: Recording, snrDb: number, random: () => number): Recording {
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return mapChannels(r, (s) => {
    let mean = 0;
    for (const v of s) mean += v;
    mean /= s.length;
    let power = 0;
    for (const v of s) power += (v - mean) ** 2;
    const sd = Math.sqrt(power / s.length / 10 ** (snrDb / 10));
    return s.map((v) => v + sd * gauss());
  });
}

/** The channels' samples under each other's labels (a random permutation that moves every channel). */
export function permuteChannels(r: Recording, random: () => number): Recording {
  const n = r.channels.length;
  const shift = 1 + Math.floor(random() * (n - 1));
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  // Composing with a cyclic shift of the shuffled order leaves no channel in place.
  return mapChannels(r, (_, i) => r.channels[order[(order.indexOf(i) + shift) % n]!]!.samples);
}

export const resampleTo = (r: Recording, rate: number): Recording => ({
  sampleRate: rate,
  channels: r.channels.map((c) => ({ label: c.label, samples: Float32Array.from(resample(c.samples, r.sampleRate, rate)) })),
});

/** The first recording followed by the second (same rate and channels). */
export function splice(a: Recording, b: Recording): Recording {
  return mapChannels(a, (s, i) => {
    const other = b.channels[i]!.samples;
    const out = new Float32Array(s.length + other.length);
    out.set(s);
    out.set(other, s.length);
    return out;
  });
}

/** Everything below `hz` removed (8th-order Butterworth, zero phase). */
export const highpass = (r: Recording, hz: number): Recording => mapChannels(r, (s) => Float32Array.from(filtfilt(butterworth('highpass', r.sampleRate, hz, 8), s, Math.round(r.sampleRate))));
