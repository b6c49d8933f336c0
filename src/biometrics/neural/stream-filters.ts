// The filters of filters.ts for a signal that arrives in pieces (continuous verification): the
// same polyphase kernel, and the same biquads run causally with their state kept between pieces.
import { resampleKernel, runBiquad, steadyState, type Biquad, type ResampleKernel } from './filters.js';

/**
 * Polyphase resampling of an endless signal: each output sample is computed once, as soon as the
 * input it needs has arrived (about `half / up` input samples after its own time), by the same
 * taps as `resample`, so away from a recording's ends both give the same values. Before the first
 * sample the signal is taken as constant (the batch version reflects it; only the first few
 * output samples differ).
 */
export class StreamingResampler {
  private readonly kernel: ResampleKernel | null;
  /** Input samples from global index `base` on; `count` of them are valid. */
  private buffer = new Float64Array(0);
  private base = 0;
  private count = 0;
  /** Input samples received so far. */
  private received = 0;
  /** Global index of the next output sample. */
  private next = 0;
  private readonly longest: number;

  constructor(fromRate: number, toRate: number) {
    this.kernel = fromRate === toRate ? null : resampleKernel(fromRate, toRate);
    this.longest = this.kernel === null ? 0 : Math.max(...this.kernel.phases.map((p) => p.length));
  }

  /**
   * A lag (output samples) after which output sample m is complete once the input holds every
   * sample up to the time of output m + delay; the smallest one that is also a whole number of
   * input samples, so that a span of delayed output is a span of input (500 → 128 Hz: 32, 250 ms).
   */
  get delay(): number {
    if (this.kernel === null) return 0;
    const { up, down, half } = this.kernel;
    // d output samples are d · down / up input samples: whole when d is a multiple of up / gcd(up, down) = up (coprime).
    return Math.ceil(Math.ceil(half / down) / up) * up;
  }

  /** The output samples the input so far completes. */
  push(input: ArrayLike<number>): Float64Array {
    if (this.kernel === null) return Float64Array.from(input);
    if (input.length === 0) return new Float64Array(0);
    if (this.received === 0) this.start(input[0] as number);
    this.append(input);
    const { up, down, half, phases } = this.kernel;
    const buffer = this.buffer;
    const base = this.base;
    const received = this.received;
    let next = this.next;
    // The new input completes about input.length · up / down outputs; any left over wait for the next piece.
    const out = new Float64Array(Math.ceil((input.length * up) / down) + 2);
    let produced = 0;
    for (; produced < out.length; produced++, next++) {
      const centre = next * down;
      const phase = (centre + half) % up;
      // The newest input sample the output needs (see resample: tap j meets newest − j).
      const newest = (centre + half - phase) / up;
      if (newest >= received) break;
      const taps = phases[phase] as Float64Array;
      const at = newest - base;
      // Four running sums: one chain of dependent additions would wait on each add's latency.
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let j = 0;
      for (; j + 3 < taps.length; j += 4) {
        a0 += (taps[j] as number) * (buffer[at - j] as number);
        a1 += (taps[j + 1] as number) * (buffer[at - j - 1] as number);
        a2 += (taps[j + 2] as number) * (buffer[at - j - 2] as number);
        a3 += (taps[j + 3] as number) * (buffer[at - j - 3] as number);
      }
      for (; j < taps.length; j++) a0 += (taps[j] as number) * (buffer[at - j] as number);
      out[produced] = a0 + a1 + (a2 + a3);
    }
    this.next = next;
    this.discardBefore((this.next * down + half) / up - this.longest - 1);
    return out.subarray(0, produced);
  }

  /** The constant history before the first sample: enough for the first output's oldest tap. */
  private start(first: number): void {
    const margin = this.longest + 1;
    this.buffer = new Float64Array(4 * margin).fill(first, 0, margin);
    this.base = -margin;
    this.count = margin;
  }

  private append(input: ArrayLike<number>): void {
    if (this.count + input.length > this.buffer.length) {
      const grown = new Float64Array(2 * (this.count + input.length));
      grown.set(this.buffer.subarray(0, this.count));
      this.buffer = grown;
    }
    for (let i = 0; i < input.length; i++) this.buffer[this.count + i] = input[i] as number;
    this.count += input.length;
    this.received += input.length;
  }

  /** Drops input older than global index `oldest`: no later output reaches it. */
  private discardBefore(oldest: number): void {
    const drop = Math.floor(oldest) - this.base;
    if (drop <= 0) return;
    this.buffer.copyWithin(0, drop, this.count);
    this.count -= drop;
    this.base += drop;
  }
}

/**
 * A cascade of biquads run forward through an endless signal, in place, piece by piece; its
 * state starts in the steady state for the first sample, as the batch filters do.
 */
export class CausalCascade {
  /** z1, z2 per section. */
  private readonly state: Float64Array;
  private started = false;

  constructor(private readonly sections: readonly Biquad[]) {
    this.state = new Float64Array(2 * sections.length);
  }

  run(x: Float64Array): void {
    if (x.length === 0) return;
    if (!this.started) this.start(x[0] as number);
    const z = this.state;
    this.sections.forEach((s, k) => {
      const [z1, z2] = runBiquad(s, x, z[2 * k] as number, z[2 * k + 1] as number);
      z[2 * k] = z1;
      z[2 * k + 1] = z2;
    });
  }

  /** Each section in the steady state for the constant its predecessor outputs for `first`. */
  private start(first: number): void {
    let level = first;
    this.sections.forEach((s, k) => {
      const [z1, z2] = steadyState(s, level);
      this.state[2 * k] = z1;
      this.state[2 * k + 1] = z2;
      level *= (s.b0 + s.b1 + s.b2) / (1 + s.a1 + s.a2);
    });
    this.started = true;
  }
}
