import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { butterworth, filtfilt, notch, resample, type Biquad } from '../../src/biometrics/neural/filters.js';
import { memoize } from '../../src/biometrics/neural/memo.js';
import { fft, hann, segmentSpectra } from '../../src/biometrics/neural/spectrum.js';
import { seededRandom } from '../../scripts/seeded-random.js';
import { sine } from './neural-fixtures.js';

/** Amplitude of a (filtered) sinusoid, measured away from the ends. */
function amplitude(x: Float64Array, trim = 0.2): number {
  const from = Math.floor(x.length * trim);
  const to = Math.ceil(x.length * (1 - trim));
  let sum = 0;
  for (let i = from; i < to; i++) sum += (x[i] as number) ** 2;
  return Math.sqrt((2 * sum) / (to - from));
}

const gain = (sections: Parameters<typeof filtfilt>[0], rate: number, hz: number): number =>
  amplitude(filtfilt(sections, sine(rate, 20, [{ hz, amplitude: 1 }]), rate));

describe('band-pass and notch filters (zero phase)', () => {
  const rate = 128;
  const lowpass = butterworth('lowpass', rate, 40);
  const highpass = butterworth('highpass', rate, 1);

  /** Butterworth power response with the bilinear transform's frequency warping; filtfilt applies it once each way. */
  const expected = (kind: 'lowpass' | 'highpass', cutoff: number, hz: number, order = 4): number => {
    const ratio = Math.tan((Math.PI * hz) / rate) / Math.tan((Math.PI * cutoff) / rate);
    return 1 / (1 + (kind === 'lowpass' ? ratio : 1 / ratio) ** (2 * order));
  };

  it('matches the Butterworth response across and around the band', () => {
    for (const hz of [0.3, 0.7, 1, 2, 4, 10, 20, 30, 40, 45, 50, 60]) {
      const want = expected('lowpass', 40, hz) * expected('highpass', 1, hz);
      const got = gain([...highpass, ...lowpass], rate, hz);
      assert.ok(Math.abs(got - want) < 0.01 + want * 0.02, `${hz} Hz: gain ${got}, expected ${want}`);
    }
  });

  it('passes the alpha/beta band within 2% and is 6 dB down at the cutoffs', () => {
    for (const hz of [8, 10, 13, 20, 25]) assert.ok(gain([...highpass, ...lowpass], rate, hz) > 0.98, `${hz} Hz`);
    assert.ok(Math.abs(gain(lowpass, rate, 40) - 0.5) < 0.02);
    assert.ok(Math.abs(gain(highpass, rate, 1) - 0.5) < 0.03);
  });

  it('stops what lies outside the band', () => {
    assert.ok(gain(lowpass, rate, 60) < 1e-3, 'lowpass at 60 Hz');
    assert.ok(gain(highpass, rate, 0.2) < 1e-4, 'highpass at 0.2 Hz');
  });

  it('notches mains at 50 and 60 Hz but not their neighbourhood', () => {
    const sampleRate = 500;
    for (const mains of [50, 60]) {
      const sections = notch(sampleRate, mains);
      assert.ok(gain(sections, sampleRate, mains) < 0.01, `${mains} Hz`);
      assert.ok(gain(sections, sampleRate, mains - 8) > 0.98, `${mains - 8} Hz`);
      assert.ok(gain(sections, sampleRate, mains + 8) > 0.98, `${mains + 8} Hz`);
    }
  });

  it('does not shift phase (coherence depends on it)', () => {
    const x = sine(rate, 20, [{ hz: 10, amplitude: 1 }]);
    const y = filtfilt([...highpass, ...lowpass], x, rate);
    let lagged = 0;
    for (let i = 200; i < x.length - 200; i++) lagged = Math.max(lagged, Math.abs((y[i] as number) - (x[i] as number)));
    assert.ok(lagged < 0.02, `max deviation ${lagged}`);
  });

  it('gives the very values of running the sections one after the other (two per pass changes no rounding)', () => {
    // Transposed direct form II, each section over the whole signal from its steady state, forward then backward.
    const oneByOne = (sections: readonly Biquad[], signal: Float64Array, pad: number) => {
      const n = signal.length;
      const work = new Float64Array(n + 2 * pad);
      for (let i = 0; i < pad; i++) {
        work[i] = 2 * signal[0]! - signal[pad - i]!;
        work[n + pad + i] = 2 * signal[n - 1]! - signal[n - 2 - i]!;
      }
      work.set(signal, pad);
      for (let pass = 0; pass < 2; pass++) {
        for (const s of sections) {
          const x0 = work[0]!;
          const y0 = ((s.b0 + s.b1 + s.b2) / (1 + s.a1 + s.a2)) * x0;
          let [z1, z2] = [y0 - s.b0 * x0, s.b2 * x0 - s.a2 * y0];
          for (let i = 0; i < work.length; i++) {
            const xi = work[i]!;
            const yi = s.b0 * xi + z1;
            z1 = s.b1 * xi - s.a1 * yi + z2;
            z2 = s.b2 * xi - s.a2 * yi;
            work[i] = yi;
          }
        }
        work.reverse();
      }
      return work.slice(pad, pad + n);
    };
    const random = seededRandom(7);
    const x = Float64Array.from({ length: 3000 }, () => 40 * (random() - 0.5) + 15);
    for (const sections of [notch(500, 50), butterworth('lowpass', 500, 16), butterworth('highpass', 500, 1, 6), [...butterworth('highpass', 500, 8, 8), ...notch(500, 50)]]) {
      assert.deepEqual(filtfilt(sections, x, 500), oneByOne(sections, x, 500), `${sections.length} sections`);
    }
  });

  it('refuses a cutoff at or beyond Nyquist', () => {
    assert.throws(() => butterworth('lowpass', 128, 64), RangeError);
    assert.throws(() => notch(100, 60), RangeError);
  });
});

describe('resampling', () => {
  it('keeps an in-band sinusoid when going 500 → 128 Hz', () => {
    const x = sine(500, 10, [{ hz: 10, amplitude: 1 }]);
    const y = resample(x, 500, 128);
    assert.equal(y.length, 1280);
    const expected = sine(128, 10, [{ hz: 10, amplitude: 1 }]);
    let worst = 0;
    for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs((y[i] as number) - (expected[i] as number)));
    assert.ok(worst < 0.01, `max error ${worst}`);
    assert.ok(Math.abs((y[640] as number) - (expected[640] as number)) < 1e-4, 'no delay in the middle');
  });

  it('removes content above the new Nyquist instead of aliasing it', () => {
    // 100 Hz at 128 Hz would fold onto 28 Hz, inside the band the features use.
    const y = resample(sine(500, 10, [{ hz: 100, amplitude: 1 }]), 500, 128);
    assert.ok(amplitude(y, 0.05) < 0.003, `aliased amplitude ${amplitude(y, 0.05)}`);
  });

  it('upsamples 250 → 256 Hz (non-integer ratio) without distortion', () => {
    const y = resample(sine(250, 4, [{ hz: 12, amplitude: 2 }]), 250, 256);
    const expected = sine(256, 4, [{ hz: 12, amplitude: 2 }]);
    assert.equal(y.length, 1024);
    for (let i = 10; i < y.length - 10; i++) assert.ok(Math.abs((y[i] as number) - (expected[i] as number)) < 0.02, `sample ${i}`);
  });
});

describe('FFT', () => {
  it('matches a direct DFT, with an even and an odd number of stages', () => {
    for (const n of [1, 2, 4, 8, 32, 64, 512]) {
      const x = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 0.7) + (i % 5) * 0.1);
      const y = Float64Array.from({ length: n }, (_, i) => Math.cos(i * 1.3) - (i % 3) * 0.2);
      const re = x.slice();
      const im = y.slice();
      fft(re, im);
      for (let k = 0; k < n; k++) {
        let dr = 0;
        let di = 0;
        for (let t = 0; t < n; t++) {
          const [c, s] = [Math.cos((-2 * Math.PI * k * t) / n), Math.sin((-2 * Math.PI * k * t) / n)];
          dr += (x[t] as number) * c - (y[t] as number) * s;
          di += (x[t] as number) * s + (y[t] as number) * c;
        }
        assert.ok(Math.abs(dr - (re[k] as number)) < 1e-9 && Math.abs(di - (im[k] as number)) < 1e-9, `n ${n}, bin ${k}`);
      }
    }
  });

  it('gives the very values of the textbook stage-by-stage radix-2 FFT (two stages per pass changes no rounding)', () => {
    const textbook = (re: Float64Array, im: Float64Array) => {
      const n = re.length;
      for (let i = 1, j = 0; i < n; i++) {
        let bit = n >> 1;
        for (; j & bit; bit >>= 1) j ^= bit;
        j ^= bit;
        if (i < j) {
          [re[i], re[j]] = [re[j]!, re[i]!];
          [im[i], im[j]] = [im[j]!, im[i]!];
        }
      }
      for (let size = 2; size <= n; size <<= 1) {
        for (let start = 0; start < n; start += size) {
          for (let k = 0; k < size / 2; k++) {
            const w = k * (n / size);
            const [wr, wi] = [Math.cos((-2 * Math.PI * w) / n), Math.sin((-2 * Math.PI * w) / n)];
            const [a, b] = [start + k, start + k + size / 2];
            const tr = wr * re[b]! - wi * im[b]!;
            const ti = wr * im[b]! + wi * re[b]!;
            [re[b], im[b], re[a], im[a]] = [re[a]! - tr, im[a]! - ti, re[a]! + tr, im[a]! + ti];
          }
        }
      }
    };
    const random = seededRandom(5);
    for (const n of [2, 16, 128, 1024]) {
      const re = Float64Array.from({ length: n }, () => random() - 0.5);
      const im = Float64Array.from({ length: n }, () => random() - 0.5);
      const [r1, i1, r2, i2] = [re.slice(), im.slice(), re.slice(), im.slice()];
      fft(r1, i1);
      textbook(r2, i2);
      assert.deepEqual([r1, i1], [r2, i2], `n ${n}`);
    }
  });

  it('splits channels packed two per transform back into their own spectra', () => {
    const n = 32;
    const channels = [0.3, 1.1, 2.3].map((w) => Float64Array.from({ length: 48 }, (_, i) => Math.sin(i * w) + Math.cos(i * w * 0.37)));
    const spectra = segmentSpectra(channels, n, 2, 9);
    assert.equal(spectra.segments, 2);
    const window = hann(n);
    channels.forEach((x, c) => {
      for (let s = 0; s < spectra.segments; s++) {
        const seg = Array.from({ length: n }, (_, i) => x[s * 16 + i] as number);
        const mean = seg.reduce((a, b) => a + b, 0) / n;
        for (let k = 2; k <= 9; k++) {
          let dr = 0;
          let di = 0;
          seg.forEach((v, t) => {
            dr += (v - mean) * (window[t] as number) * Math.cos((-2 * Math.PI * k * t) / n);
            di += (v - mean) * (window[t] as number) * Math.sin((-2 * Math.PI * k * t) / n);
          });
          const at = (s * 3 + c) * spectra.bins + (k - 2);
          assert.ok(Math.abs(dr - (spectra.re[at] as number)) < 1e-9 && Math.abs(di - (spectra.im[at] as number)) < 1e-9, `channel ${c} segment ${s} bin ${k}`);
        }
      }
    });
  });
});

describe('memoize', () => {
  it('computes once per key and keeps only the most recent entries', () => {
    const calls: number[] = [];
    const square = memoize(2, (n: number) => {
      calls.push(n);
      return n * n;
    });
    assert.deepEqual([square(2), square(2), square(3), square(4), square(2)], [4, 4, 9, 16, 4]);
    // 2 was evicted by 4 (limit 2), so it is computed again.
    assert.deepEqual(calls, [2, 3, 4, 2]);
  });
});
