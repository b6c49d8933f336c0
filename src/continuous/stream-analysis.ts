// One stream's signal → the model's feature vector for every window, computed incrementally: each
// sample is resampled and filtered once, each Welch segment transformed once, and the quality
// checks read statistics kept per second, so a window costs a small fraction of a batch probe.
import type { NeuralRejection } from '../biometrics/neural/errors.js';
import { accumulateCross, accumulatePower, coherenceGrid, emptyCrossSpectra, featuresFromSums, spectrumGrid, type CrossSpectra, type FeatureConfig, type SegmentGrid } from '../biometrics/neural/features.js';
import { analysisFilter, type SignalConfig } from '../biometrics/neural/preprocess.js';
import {
  addMainsBlockPower,
  amplitudeRejection,
  countOnRails,
  disconnectedRejection,
  lineNoiseRejection,
  MAINS_HZ,
  rails,
  rawChannelRejection,
  strongerMains,
  type QualityPolicy,
} from '../biometrics/neural/quality.js';
import { segmentSpectrum, type SegmentSpectra } from '../biometrics/neural/spectrum.js';
import { CausalCascade, StreamingResampler } from '../biometrics/neural/stream-filters.js';
import { WindowBuffer, type WindowTiming } from './window-buffer.js';

export interface AnalysedWindow {
  /** Stream time (seconds) at which the window ends. */
  readonly endSeconds: number;
  /** The model's input for a clean window. */
  readonly features?: Float32Array;
  /** Why the window cannot be scored (the first problem found, as a probe's checks would name it). */
  readonly rejection?: NeuralRejection;
}

/** Per-second statistics of each channel, for the last `seconds` seconds (a ring). */
class SecondStats {
  private readonly values: Float64Array;

  constructor(
    private readonly seconds: number,
    private readonly channels: number,
    private readonly fields: number,
  ) {
    this.values = new Float64Array(seconds * channels * fields);
  }

  /** Where channel c's fields for second s start. */
  at(second: number, channel: number): number {
    return ((second % this.seconds) * this.channels + channel) * this.fields;
  }

  get data(): Float64Array {
    return this.values;
  }
}

// Fields per second and channel.
const MEAN = 0;
const M2 = 1;
const MIN = 2;
const MAX = 3;
const MAINS = 4; // then one per MAINS_HZ, raw side only

/** Mean, sum of squared deviations, minimum and maximum of x[start, end), written at `offset`. */
function describe(x: ArrayLike<number>, start: number, end: number, into: Float64Array, offset: number): void {
  let mean = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = start; i < end; i++) {
    const v = x[i] as number;
    mean += v;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  mean /= end - start;
  let m2 = 0;
  for (let i = start; i < end; i++) m2 += ((x[i] as number) - mean) ** 2;
  into[offset + MEAN] = mean;
  into[offset + M2] = m2;
  into[offset + MIN] = lo;
  into[offset + MAX] = hi;
}

/** Over seconds [from, to) of one channel: population standard deviation (pairwise-combined moments), minimum, maximum. */
function spread(stats: SecondStats, channel: number, from: number, to: number, perSecond: number): { sd: number; lo: number; hi: number } {
  const d = stats.data;
  let n = 0;
  let mean = 0;
  let m2 = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (let s = from; s < to; s++) {
    const o = stats.at(s, channel);
    const delta = (d[o + MEAN] as number) - mean;
    const total = n + perSecond;
    mean += (delta * perSecond) / total;
    m2 += (d[o + M2] as number) + (delta * delta * n * perSecond) / total;
    n = total;
    lo = Math.min(lo, d[o + MIN] as number);
    hi = Math.max(hi, d[o + MAX] as number);
  }
  return { sd: Math.sqrt(m2 / n), lo, hi };
}

/** A window whose raw-signal checks are done, waiting for the filtered signal to reach its end. */
interface Pending {
  readonly end: number;
  readonly rejection: NeuralRejection | null;
  /** Mains power per channel over the window. */
  readonly mains: Float64Array;
}

/**
 * The Welch segments of one grid: the last `count` of them (one window's) in a ring laid out as
 * SegmentSpectra, and their sums as the features need them, kept running: a segment is added once
 * when transformed and taken away once when the window has moved past it. Every REBUILD_EVERY
 * segments the sums are recomputed from the ring, so rounding cannot build up over a long session.
 */
class SegmentRing {
  private readonly ring: SegmentSpectra;
  /** Index of the next segment to transform. */
  private next = 0;
  readonly hop: number;
  readonly cross: CrossSpectra | null;
  readonly power: Float64Array | null;

  constructor(
    readonly grid: SegmentGrid,
    windowSamples: number,
    channels: number,
    sums: 'cross' | 'power',
  ) {
    this.hop = grid.segment / 2;
    const count = (windowSamples - grid.segment) / this.hop + 1;
    const bins = grid.lastBin - grid.firstBin + 1;
    this.ring = { bins, channels, segments: count, re: new Float64Array(count * channels * bins), im: new Float64Array(count * channels * bins) };
    this.cross = sums === 'cross' ? emptyCrossSpectra(channels, bins) : null;
    this.power = sums === 'power' ? new Float64Array(channels * bins) : null;
  }

  /** Transforms every segment that ends at or before `end` (global analysis samples). */
  advance(filtered: readonly Float64Array[], base: number, end: number): void {
    const { bins, channels, segments, re, im } = this.ring;
    for (; this.next * this.hop + this.grid.segment <= end; this.next++) {
      const slot = this.next % segments;
      if (this.next >= segments) this.accumulate(slot, -1);
      segmentSpectrum(filtered, this.next * this.hop - base, this.grid.segment, this.grid.firstBin, bins, re, im, slot * channels * bins);
      if (this.next % REBUILD_EVERY === REBUILD_EVERY - 1) this.rebuild();
      else this.accumulate(slot, 1);
    }
  }

  /** First global sample a later segment needs. */
  get oldestNeeded(): number {
    return this.next * this.hop;
  }

  private accumulate(slot: number, sign: 1 | -1): void {
    if (this.cross) accumulateCross(this.ring, slot, this.cross, sign);
    if (this.power) accumulatePower(this.ring, slot, this.power, sign);
  }

  /** The sums afresh over the segments in the ring (all of them once a window has passed). */
  private rebuild(): void {
    for (const a of [this.cross?.auto, this.cross?.crossRe, this.cross?.crossIm, this.power]) a?.fill(0);
    for (let slot = 0; slot < Math.min(this.next + 1, this.ring.segments); slot++) this.accumulate(slot, 1);
  }
}

const REBUILD_EVERY = 1024;

/**
 * The incremental analysis of one stream (on the montage, in microvolts, at its declared rate).
 * Equal to the upload pipeline except where a stream must differ: the band-pass runs twice forward
 * instead of forward and backward (the same magnitude response, so the same power and coherence;
 * only the phase shift differs, and it is the same on every channel), there are no window edges
 * to pad, the analysis lags stream time by the resampler's delay, and the quality checks apply to
 * each window. Features come from the same code as a probe's.
 */
export class StreamAnalysis {
  private readonly raw: WindowBuffer;
  private readonly rawStats: SecondStats;
  private readonly filteredStats: SecondStats;
  private readonly resamplers: StreamingResampler[];
  private readonly filters: CausalCascade[];
  private readonly coherence: SegmentRing;
  private readonly spectrum: SegmentRing | null;
  /** The filtered signal from global analysis sample `base` on, per channel. */
  private filtered: Float64Array[];
  private base = 0;
  private count = 0;
  /** Whole seconds of filtered signal analysed. */
  private analysedSeconds = 0;
  private readonly pending: Pending[] = [];
  private readonly rate: number;
  private readonly mainsSums = new Float64Array(MAINS_HZ.length);
  private started = false;

  constructor(
    private readonly labels: readonly string[],
    private readonly sampleRate: number,
    signal: SignalConfig,
    private readonly features: FeatureConfig,
    private readonly quality: QualityPolicy,
    private readonly timing: WindowTiming,
    maxChunkSeconds: number,
  ) {
    this.rate = signal.analysisRate;
    const channels = labels.length;
    const windowSamples = timing.windowSeconds * this.rate;
    this.coherence = new SegmentRing(coherenceGrid(this.rate, features), windowSamples, channels, 'cross');
    this.spectrum = features.spectrum === null ? null : new SegmentRing(spectrumGrid(this.rate, features.spectrum), windowSamples, channels, 'power');
    for (const ring of [this.coherence, this.spectrum]) {
      if (ring === null) continue;
      // Windows start on whole seconds: every segment grid must fall on them.
      if (!Number.isInteger(ring.hop) || this.rate % ring.hop !== 0 || windowSamples < ring.grid.segment) {
        throw new RangeError(`a ${timing.windowSeconds} s window does not hold whole ${ring.grid.segment}-sample segments on the second grid`);
      }
    }
    this.raw = new WindowBuffer(channels, sampleRate, timing, maxChunkSeconds);
    this.rawStats = new SecondStats(timing.windowSeconds + Math.ceil(maxChunkSeconds) + 1, channels, MAINS + MAINS_HZ.length);
    this.filteredStats = new SecondStats(timing.windowSeconds + 1, channels, MAINS);
    this.resamplers = labels.map(() => new StreamingResampler(sampleRate, this.rate));
    const sections = analysisFilter(signal);
    this.filters = labels.map(() => new CausalCascade([...sections, ...sections]));
    this.filtered = labels.map(() => new Float64Array(4 * this.rate));
  }

  /** Appends one chunk (per channel, montage order) and returns the windows it completes, in order. */
  push(chunk: readonly Float32Array[]): AnalysedWindow[] {
    const appended = this.raw.append(chunk);
    for (const s of appended.seconds) this.describeRawSecond(s);
    for (const end of appended.windowEnds) this.pending.push(this.rawChecks(end));
    const resampled = chunk.map((c, i) => {
      const resampler = this.resamplers[i] as StreamingResampler;
      let x = resampler.push(c);
      // The analysis signal starts `delay` samples late (held at its first value), so that the
      // window ending at second e is complete when the frame holding second e has arrived.
      if (!this.started && x.length > 0) x = Float64Array.from([...new Array<number>(resampler.delay).fill(x[0] as number), ...x]);
      (this.filters[i] as CausalCascade).run(x);
      return x;
    });
    if ((resampled[0]?.length ?? 0) > 0) this.started = true;
    this.appendFiltered(resampled);
    const out: AnalysedWindow[] = [];
    while (this.count + this.base >= (this.analysedSeconds + 1) * this.rate) {
      const s = this.analysedSeconds;
      const end = (s + 1) * this.rate;
      this.labels.forEach((_, c) => describe(this.filtered[c] as Float64Array, s * this.rate - this.base, end - this.base, this.filteredStats.data, this.filteredStats.at(s, c)));
      this.coherence.advance(this.filtered, this.base, end);
      this.spectrum?.advance(this.filtered, this.base, end);
      this.analysedSeconds++;
      if (this.pending[0]?.end === this.analysedSeconds) out.push(this.complete(this.pending.shift() as Pending));
    }
    this.discardFiltered();
    return out;
  }

  private describeRawSecond(s: number): void {
    const d = this.rawStats.data;
    this.labels.forEach((_, c) => {
      const x = this.raw.span(c, s, s + 1);
      const o = this.rawStats.at(s, c);
      describe(x, 0, x.length, d, o);
      const mains = d.subarray(o + MAINS, o + MAINS + MAINS_HZ.length);
      mains.fill(0);
      addMainsBlockPower(x, 0, this.sampleRate, mains);
    });
  }

  /** Flat and clipped channels over the window's raw signal, and its mains power per channel. */
  private rawChecks(end: number): Pending {
    const from = end - this.timing.windowSeconds;
    const d = this.rawStats.data;
    const mains = new Float64Array(this.labels.length);
    let rejection: NeuralRejection | null = null;
    this.labels.forEach((label, c) => {
      const { sd, lo, hi } = spread(this.rawStats, c, from, end, this.sampleRate);
      rejection ??= rawChannelRejection(label, sd, () => {
        const bounds = rails(lo, hi);
        let atRails = 0;
        // Only seconds reaching a rail can hold samples on it.
        for (let s = from; s < end; s++) {
          const o = this.rawStats.at(s, c);
          if ((d[o + MIN] as number) <= bounds.low || (d[o + MAX] as number) >= bounds.high) atRails += countOnRails(this.raw.span(c, s, s + 1), 0, this.sampleRate, bounds);
        }
        return atRails / ((end - from) * this.sampleRate);
      }, this.quality);
      this.mainsSums.fill(0);
      for (let s = from; s < end; s++) {
        const o = this.rawStats.at(s, c) + MAINS;
        MAINS_HZ.forEach((_, f) => (this.mainsSums[f] = (this.mainsSums[f] as number) + (d[o + f] as number)));
      }
      mains[c] = strongerMains(this.mainsSums, end - from);
    });
    return { end, rejection, mains };
  }

  /** The window's contact and amplitude checks (in the probe pipeline's order), then its features. */
  private complete(window: Pending): AnalysedWindow {
    const endSeconds = window.end;
    if (window.rejection !== null) return { endSeconds, rejection: window.rejection };
    const from = window.end - this.timing.windowSeconds;
    const spreads = this.labels.map((_, c) => spread(this.filteredStats, c, from, window.end, this.rate));
    const checks = [
      (label: string, c: number) => lineNoiseRejection(label, window.mains[c] as number, spreads[c]!.sd, this.quality),
      (label: string, c: number) => disconnectedRejection(label, spreads[c]!.sd, this.quality),
      (label: string, c: number) => amplitudeRejection(label, spreads[c]!.hi - spreads[c]!.lo, this.quality),
    ];
    for (const check of checks) {
      for (const [c, label] of this.labels.entries()) {
        const rejection = check(label, c);
        if (rejection !== null) return { endSeconds, rejection };
      }
    }
    return { endSeconds, features: featuresFromSums(this.coherence.cross!, this.spectrum?.power ?? null, this.rate, this.features) };
  }

  private appendFiltered(pieces: readonly Float64Array[]): void {
    const n = pieces[0]?.length ?? 0;
    if (this.count + n > (this.filtered[0]?.length ?? 0)) {
      this.filtered = this.filtered.map((old) => {
        const grown = new Float64Array(2 * (this.count + n));
        grown.set(old.subarray(0, this.count));
        return grown;
      });
    }
    pieces.forEach((p, c) => (this.filtered[c] as Float64Array).set(p, this.count));
    this.count += n;
  }

  /** Drops filtered samples that no later second or segment reads. */
  private discardFiltered(): void {
    const oldest = Math.min(this.analysedSeconds * this.rate, this.coherence.oldestNeeded, this.spectrum?.oldestNeeded ?? Infinity);
    const drop = oldest - this.base;
    if (drop <= 0) return;
    for (const f of this.filtered) f.copyWithin(0, drop, this.count);
    this.count -= drop;
    this.base += drop;
  }
}
