// ContinuousVerifier on real eegmat recordings through the window worker and the shipped
// clinical19 v2 model: the enrolled person's stream stays open for over 5 minutes, another
// person's ends the session within 10 s of taking over, and refusals close the stream. v2 was
// trained on these people, so this checks the mechanism; eval:continuous measures it out of fold.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { NeuralEmbedder, score } from '../../src/biometrics/neural/embedder.js';
import { currentNeuralModel } from '../../src/biometrics/neural/model-catalog.js';
import { montages, selectMontage } from '../../src/biometrics/neural/montage.js';
import { durationSeconds, sliceRecording, type Recording } from '../../src/biometrics/neural/recording.js';
import { CLOSE_CODES, ContinuousModel, ContinuousVerifier, DEFAULT_CONTINUOUS_POLICY, encodeFrame, isRefusal, type PushResult } from '../../src/continuous/index.js';
import { loadEdf, sharedEegDir } from '../../scripts/neural/dataset.js';

const model = currentNeuralModel('clinical19');
const hello = JSON.stringify({ type: 'hello', sampleRate: 500, channels: montages.clinical19.electrodes });
let continuous: ContinuousModel;
let embedder: NeuralEmbedder;
const people = new Map<number, { rest: Recording; task: Recording; template: Float32Array }>();

before(async () => {
  [continuous, embedder] = await Promise.all([ContinuousModel.forModel(model), NeuralEmbedder.load(model.file)]);
  for (const s of [21, 23]) {
    const [rest, task] = await Promise.all([1, 2].map(async (run) => selectMontage(await loadEdf(`${sharedEegDir()}/Subject${s}_${run}.edf`), montages.clinical19)));
    people.set(s, { rest: rest!, task: task!, template: (await embedder.enroll([sliceRecording(rest!, 0, 60)])).vector });
  }
});

after(() => continuous.close());

/** 1 s frames of seconds [from, to) of a recording. */
function* seconds(recording: Recording, from: number, to: number, alter?: (channel: number, samples: Float32Array) => void): Generator<Float32Array[]> {
  const rate = recording.sampleRate;
  for (let s = from; s < to; s++) {
    yield recording.channels.map((c, k) => {
      const frame = c.samples.slice(s * rate, (s + 1) * rate);
      alter?.(k, frame);
      return frame;
    });
  }
}

async function open(subject: number): Promise<ContinuousVerifier> {
  const template = people.get(subject)!.template;
  const v = await ContinuousVerifier.open({ hello, model: continuous, match: (e) => score(template, e), calibration: continuous.calibration!, initialLlr: 10 });
  assert.ok(!isRefusal(v));
  return v;
}

/** Pushes frames until the session ends; the stream time of the end, if any, and every verdict. */
async function run(v: ContinuousVerifier, frames: Iterable<Float32Array[]>) {
  let sequence = 0;
  const verdicts: PushResult['verdicts'][number][] = [];
  for (const frame of frames) {
    const result = await v.push(encodeFrame(sequence++, frame));
    assert.ok(!isRefusal(result), isRefusal(result) ? result.reason : '');
    verdicts.push(...result.verdicts);
    if (result.end) return { end: result.end, at: v.streamSeconds, verdicts };
  }
  return { verdicts };
}

test('the enrolled person streaming over 5 minutes (rest, task, the same again) keeps the session', async () => {
  const { rest, task } = people.get(21)!;
  const v = await open(21);
  const once = () => [...seconds(rest, 70, Math.floor(durationSeconds(rest))), ...seconds(task, 0, Math.floor(durationSeconds(task)))];
  const result = await run(v, [...once(), ...once()]);
  assert.equal(result.end, undefined);
  assert.ok(v.streamSeconds >= 300, `${v.streamSeconds} s`);
  // One window a second after the first whole one; each scored with its LLR and the confidence.
  assert.equal(result.verdicts.length, Math.floor((v.streamSeconds - DEFAULT_CONTINUOUS_POLICY.windowSeconds) / DEFAULT_CONTINUOUS_POLICY.hopSeconds) + 1);
  assert.ok(result.verdicts.every((w) => w.rejected !== undefined || (w.llr !== undefined && w.score !== undefined)));
  assert.ok(v.confidence > DEFAULT_CONTINUOUS_POLICY.floor);
  await v.close();
  assert.equal(isRefusal(await v.push(encodeFrame(0, [new Float32Array(1)]))) ? CLOSE_CODES.session_over : 0, CLOSE_CODES.session_over);
});

// Subject23 after Subject21 is one of the 88% of eval:continuous's switches that end within 10 s.
test('another person taking over the stream ends the session within 10 s of stream time', async () => {
  const v = await open(21);
  const result = await run(v, [...seconds(people.get(21)!.rest, 70, 130), ...seconds(people.get(23)!.rest, 70, 130)]);
  assert.equal(result.end, 'low_confidence');
  assert.ok(result.at! > 60 && result.at! <= 70, `ended at ${result.at} s, the switch was at 60 s`);
  assert.equal(CLOSE_CODES[result.end], 4410);
  // Over: anything else is refused, and the worker's state is gone.
  const later = await v.push(encodeFrame(120, [new Float32Array(19)]));
  assert.ok(isRefusal(later) && later.code === CLOSE_CODES.session_over);
});

test('a stream of nothing but artefact windows ends past the tolerance, without moving confidence', async () => {
  const v = await open(21);
  // A 400 µV swing on Fp1 in every second: every window is an amplitude artefact.
  const swing = (channel: number, frame: Float32Array) => {
    if (channel === 0) for (let i = 100; i < 150; i++) frame[i] = (frame[i] as number) + 400;
  };
  const result = await run(v, seconds(people.get(21)!.rest, 70, 170, swing));
  assert.equal(result.end, 'unusable_signal');
  assert.equal(result.verdicts.length, DEFAULT_CONTINUOUS_POLICY.rejectedWindowsTolerated + 1);
  assert.deepEqual(new Set(result.verdicts.map((w) => `${w.rejected} ${w.confidence}`)), new Set(['amplitude_artifact 10']));
});

test('refusals: a bad hello, a text frame, a gap', async () => {
  const bad = await ContinuousVerifier.open({ hello: JSON.stringify({ type: 'hello', sampleRate: 500, channels: ['Fp1'] }), model: continuous, match: () => 1, calibration: continuous.calibration!, initialLlr: 0 });
  assert.ok(isRefusal(bad) && bad.code === CLOSE_CODES.montage_not_covered);
  const text = await open(21);
  const refused = await text.push('{"type":"hello"}');
  assert.ok(isRefusal(refused) && refused.code === CLOSE_CODES.unexpected_frame);
  const gap = await open(21);
  const frames = [...seconds(people.get(21)!.rest, 70, 72)];
  assert.ok(!isRefusal(await gap.push(encodeFrame(0, frames[0]!))));
  const skipped = await gap.push(encodeFrame(2, frames[1]!));
  assert.ok(isRefusal(skipped) && skipped.code === CLOSE_CODES.sequence_gap);
});
