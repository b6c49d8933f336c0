import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { addNoise, cut, highpass, permuteChannels, resampleTo, rotate, scale, splice } from '../../scripts/neural/replay-attacks.js';
import { seededRandom } from '../../scripts/seeded-random.js';
import { loadEdf, sharedEegDir } from '../../scripts/neural/dataset.js';
import { montageByName, selectMontage } from '../../src/biometrics/neural/montage.js';
import type { Recording } from '../../src/biometrics/neural/recording.js';
import { DEFAULT_REPLAY_SIMILARITY, findReplay, type ReplayVerdict } from '../../src/steps/neural/replay.js';
import type { Submission } from '../../src/steps/neural/replay-memory.js';
import { packFingerprint, signalFingerprint, unpackFingerprint, type SignalFingerprint } from '../../src/steps/neural/signal-fingerprint.js';

// Real EEG (eegmat Subject23, not used to set the cut-off's defaults any more than the others):
// the memory is the enrollment minute of the resting run and one accepted 10 s task probe.
const random = seededRandom(23);
let rest: Recording;
let task: Recording;
let memory: Submission[];
const digest = (c: string) => c.repeat(64);
const check = (r: Recording, previous = memory) => findReplay(digest('f'), signalFingerprint(r), previous, DEFAULT_REPLAY_SIMILARITY);
const refusedAs = (verdict: ReplayVerdict, match: string, what: string) => {
  assert.equal(verdict.replay, true, `${what}: similarity ${verdict.similarity}`);
  assert.equal(verdict.replay && verdict.match, match, what);
};

describe('replay defence on real EEG: every transform of a remembered recording is refused', () => {
  before(async () => {
    const montage = montageByName('clinical19');
    rest = selectMontage(await loadEdf(`${sharedEegDir()}/Subject23_1.edf`), montage);
    task = selectMontage(await loadEdf(`${sharedEegDir()}/Subject23_2.edf`), montage);
    memory = [
      { kind: 'enrollment', digest: digest('a'), fingerprint: signalFingerprint(cut(rest, 0, 60)) },
      { kind: 'probe', digest: digest('b'), fingerprint: signalFingerprint(cut(task, 0, 10)) },
    ];
  });

  test('the same samples again are an exact replay, by digest', () => {
    const verdict = findReplay(digest('b'), signalFingerprint(cut(task, 0, 10)), memory, DEFAULT_REPLAY_SIMILARITY);
    assert.deepEqual(verdict, { replay: true, match: 'exact', of: 'probe', similarity: 1, seconds: 10 });
  });

  test('a shift by any offset: whole seconds, sub-second, between two samples', () => {
    for (const start of [3, 17.25, 41.0037, 49.9]) {
      const verdict = check(cut(rest, start, 10));
      refusedAs(verdict, 'altered', `enrollment from ${start} s`);
      assert.equal(verdict.replay && verdict.of, 'enrollment');
    }
    // The accepted probe's run cut 4.5 s later: 5.5 s of the probe, then signal never seen.
    refusedAs(check(cut(task, 4.5, 10)), 'altered', 'probe shifted by 4.5 s');
  });

  test('amplitude scaling ×0.5 and ×2, and white noise at 20 dB SNR on every channel', () => {
    refusedAs(check(scale(cut(rest, 12.3, 10), 0.5)), 'altered', '×0.5');
    refusedAs(check(scale(cut(task, 0, 10), 2)), 'altered', '×2');
    const noisy = check(addNoise(cut(rest, 30.01, 10), 20, random));
    refusedAs(noisy, 'altered', '20 dB noise');
    assert.ok(noisy.similarity > 0.95, `noise at 20 dB keeps the correlation high (${noisy.similarity})`);
  });

  test('channels relabelled in another order', () => {
    refusedAs(check(permuteChannels(cut(rest, 22, 10), random)), 'altered', 'permutation');
  });

  test('resampled to 256, 250 and 1000 Hz', () => {
    for (const rate of [256, 250, 1000]) refusedAs(check(resampleTo(cut(rest, 35.5, 10), rate)), 'altered', `${rate} Hz`);
  });

  test('a splice of parts of two earlier recordings, and a remembered probe rotated', () => {
    const spliced = check(splice(cut(rest, 40, 5), cut(task, 4, 5)));
    refusedAs(spliced, 'splice', 'enrollment 40–45 s + probe 4–9 s');
    assert.equal(spliced.replay && spliced.seconds, 10);
    refusedAs(check(rotate(cut(task, 0, 10), 5)), 'splice', 'probe rotated by 5 s');
  });

  test('a copy with its low band filtered away is still found in the 8–16 Hz band', () => {
    const highpassed = highpass(cut(rest, 14.2, 10), 8);
    refusedAs(check(highpassed), 'altered', 'high-passed at 8 Hz');
  });

  test('all of it at once', () => {
    const attack = resampleTo(permuteChannels(addNoise(scale(splice(cut(rest, 8.002, 6), cut(task, 1, 4)), 2), 20, random), random), 250);
    assert.equal(check(attack).replay, true);
  });

  test('fresh recordings of the same person are not replays, with a margin', () => {
    for (const [run, start] of [[rest, 70], [rest, 120], [rest, 160], [task, 20], [task, 45]] as const) {
      const verdict = check(cut(run, start, 10));
      assert.equal(verdict.replay, false, `${start} s: ${verdict.similarity}`);
      assert.ok(verdict.similarity < DEFAULT_REPLAY_SIMILARITY - 0.05, `${start} s: ${verdict.similarity}`);
    }
  });

  test('rows stored before fingerprints existed match exactly only; an empty memory matches nothing', () => {
    const old: Submission[] = [{ kind: 'probe', digest: digest('c') }];
    assert.equal(check(cut(task, 0, 10), old).replay, false);
    assert.equal(findReplay(digest('c'), signalFingerprint(cut(task, 0, 10)), old, DEFAULT_REPLAY_SIMILARITY).replay, true);
    assert.deepEqual(check(cut(task, 0, 10), []), { replay: false, similarity: 0 });
  });

  test('a fingerprint packs to one byte per channel sample and two per channel-sum sample, and back; scaling does not change it', () => {
    const f = signalFingerprint(cut(rest, 0, 10));
    const packed = packFingerprint(f);
    // 10 s of 19 channels at 32 Hz (1–8 Hz) and at 64 Hz (8–16 Hz), with their i16 channel sums and headers.
    assert.equal(packed.length, 2 + (6 + 19 * 320 + 2 * 320) + (6 + 19 * 640 + 2 * 640));
    assert.deepEqual(unpackFingerprint(packed), f);
    for (const band of f.bands) {
      const sum = Int16Array.from(band.channelSum, (_, i) => band.channels.reduce((total, c) => total + c[i]!, 0));
      assert.deepEqual(band.channelSum, sum);
    }
    assert.deepEqual(signalFingerprint(scale(cut(rest, 0, 10), 3)), f);
    assert.throws(() => unpackFingerprint(packed.subarray(0, 100)), /wrong length/);
    assert.throws(() => unpackFingerprint(packed.subarray(0, packed.length - 1)), /wrong length/);
  });

  test('fingerprints stored before channel sums (format 1) are still read, and still find their copies', () => {
    // Format 1: u8 version 1, u8 bands, per band u8 rate, u8 channels, u32 samples, the channels; no sums.
    const formatOne = (f: SignalFingerprint) =>
      Buffer.concat([
        Buffer.from([1, f.bands.length]),
        ...f.bands.flatMap((b) => {
          const header = Buffer.alloc(6);
          header.writeUInt8(b.rate, 0);
          header.writeUInt8(b.channels.length, 1);
          header.writeUInt32LE(b.channelSum.length, 2);
          return [header, ...b.channels.map((c) => Buffer.from(c.buffer, c.byteOffset, c.length))];
        }),
      ]);
    const old = memory.map((s) => ({ ...s, fingerprint: unpackFingerprint(formatOne(s.fingerprint!)) }));
    assert.deepEqual(old, memory);
    const attack = cut(rest, 21.7, 10);
    assert.deepEqual(check(attack, old), check(attack));
    refusedAs(check(attack, old), 'altered', 'copy of a format-1 enrollment');
  });
});
