// The raw signal of one stream on its own sample clock: the last window of every channel, and
// which seconds and which windows each appended chunk completes.

export interface WindowTiming {
  /** Whole seconds: windows start on whole seconds of the stream, where the per-second statistics and Welch segments fall. */
  readonly windowSeconds: number;
  readonly hopSeconds: number;
}

export interface Appended {
  /** Seconds of stream time completed by the chunk (second s spans [s, s + 1)). */
  readonly seconds: number[];
  /** End times (seconds) of the windows the chunk completed: windowSeconds, then every hopSeconds. */
  readonly windowEnds: number[];
}

/**
 * Keeps the last `windowSeconds` of each channel plus room for one chunk, so that every second a
 * chunk completes can still be read after it was appended. Stream time is the sample count over
 * the declared rate, never the wall clock: a test or an evaluation may stream faster than real time.
 */
export class WindowBuffer {
  private readonly samples: Float32Array[];
  /** Global index of samples[c][0]. */
  private base = 0;
  private count = 0;
  private readonly capacity: number;
  private readonly maxChunk: number;

  constructor(
    channels: number,
    /** Samples per second; whole, so that seconds fall on samples. */
    readonly sampleRate: number,
    readonly timing: WindowTiming,
    maxChunkSeconds: number,
  ) {
    this.maxChunk = Math.ceil(maxChunkSeconds) * sampleRate;
    // The last window, the second in progress and one chunk.
    this.capacity = timing.windowSeconds * sampleRate + sampleRate + this.maxChunk;
    this.samples = Array.from({ length: channels }, () => new Float32Array(this.capacity));
  }

  /** Samples received so far, per channel. */
  get received(): number {
    return this.base + this.count;
  }

  /** Appends one chunk (the same number of samples on every channel). */
  append(chunk: readonly Float32Array[]): Appended {
    const n = chunk[0]?.length ?? 0;
    if (n > this.maxChunk) throw new RangeError(`chunk of ${n} samples is longer than the buffer allows`);
    const before = Math.floor(this.received / this.sampleRate);
    if (this.count + n > this.capacity) {
      // Keep the last window (whole seconds) and make room for the chunk.
      const keep = Math.min(this.count, this.timing.windowSeconds * this.sampleRate + (this.received % this.sampleRate));
      for (const s of this.samples) s.copyWithin(0, this.count - keep, this.count);
      this.base += this.count - keep;
      this.count = keep;
    }
    chunk.forEach((c, i) => (this.samples[i] as Float32Array).set(c, this.count));
    this.count += n;
    const after = Math.floor(this.received / this.sampleRate);
    const seconds: number[] = [];
    const windowEnds: number[] = [];
    const { windowSeconds, hopSeconds } = this.timing;
    for (let s = before; s < after; s++) {
      seconds.push(s);
      const end = s + 1;
      if (end >= windowSeconds && (end - windowSeconds) % hopSeconds === 0) windowEnds.push(end);
    }
    return { seconds, windowEnds };
  }

  /** Channel c's samples over seconds [from, to), which must still be held. */
  span(channel: number, from: number, to: number): Float32Array {
    const start = from * this.sampleRate - this.base;
    const end = to * this.sampleRate - this.base;
    if (start < 0 || end > this.count) throw new RangeError(`seconds ${from}–${to} are no longer (or not yet) held`);
    return (this.samples[channel] as Float32Array).subarray(start, end);
  }
}
