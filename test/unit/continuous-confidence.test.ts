// The running confidence: an exponentially weighted LLR in stream time, K windows below the floor, artefact tolerance.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_CONTINUOUS_POLICY, policyProblems } from '../../src/continuous/continuous-policy.js';
import { RunningConfidence } from '../../src/continuous/running-confidence.js';

const policy = { halfLifeSeconds: 2, floor: 0, windowsBelowFloor: 3, rejectedWindowsTolerated: 2 };

test('a window one half-life after the last moves confidence half way to its LLR', () => {
  const c = new RunningConfidence(policy, 10);
  assert.equal(c.scored(2, -10).confidence, 0);
  // Two half-lives later: a quarter of the old value stays.
  assert.equal(c.scored(6, 8).confidence, 6);
  // The same stream time again weighs nothing new in: w = 1.
  assert.equal(c.scored(6, -100).confidence, 6);
});

test('K consecutive windows below the floor end the session; one above breaks the run', () => {
  const c = new RunningConfidence({ ...policy, halfLifeSeconds: 0.001 }, 5);
  assert.equal(c.scored(1, -1).end, undefined);
  assert.equal(c.scored(2, -1).end, undefined);
  assert.equal(c.scored(3, 1).end, undefined);
  assert.equal(c.scored(4, -1).end, undefined);
  assert.equal(c.scored(5, -1).end, undefined);
  assert.equal(c.scored(6, -1).end, 'low_confidence');
});

test('artefact windows move nothing, keep the below-floor run, and end the session past the tolerance', () => {
  const c = new RunningConfidence({ ...policy, halfLifeSeconds: 0.001 }, 5);
  c.scored(1, -1);
  c.scored(2, -1);
  assert.deepEqual(c.rejectedWindow(), { confidence: -1 });
  assert.deepEqual(c.rejectedWindow(), { confidence: -1 });
  // The run of two below the floor survived the artefacts: the third scored one ends it.
  assert.equal(c.scored(5, -1).end, 'low_confidence');
  const d = new RunningConfidence(policy, 5);
  d.rejectedWindow();
  d.rejectedWindow();
  assert.equal(d.rejectedWindow().end, 'unusable_signal');
  // A scored window resets the artefact count.
  const e = new RunningConfidence(policy, 5);
  e.rejectedWindow();
  e.rejectedWindow();
  e.scored(3, 5);
  assert.equal(e.rejectedWindow().end, undefined);
});

test('time without a score lets the next window count more: old evidence fades in stream time', () => {
  const late = new RunningConfidence(policy, 20).scored(20, -10).confidence;
  const soon = new RunningConfidence(policy, 20).scored(1, -10).confidence;
  assert.ok(late < -9.9 && soon > 10, `${late} ${soon}`);
});

test('the initial LLR must be finite; the default policy is valid and bad ones are named', () => {
  assert.throws(() => new RunningConfidence(policy, Number.NaN), RangeError);
  assert.deepEqual(policyProblems(DEFAULT_CONTINUOUS_POLICY), []);
  const problems = policyProblems({ ...DEFAULT_CONTINUOUS_POLICY, windowSeconds: 7.5, hopSeconds: 0, halfLifeSeconds: 0, floor: Number.NaN });
  assert.equal(problems.length, 4);
});
