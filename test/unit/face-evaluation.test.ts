// Error-rate arithmetic of the face evaluation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { percentile, ScoreSet } from '../../src/biometrics/face/evaluation.js';

test('FAR and FRR at a threshold count accepted impostors and rejected genuine pairs', () => {
  const s = new ScoreSet([0.1, 0.2, 0.3, 0.6], [0.4, 0.5, 0.7, 0.8, 0.9]);
  assert.deepEqual(s.at(0.45), { threshold: 0.45, far: 1 / 5, frr: 1 / 4 });
  assert.deepEqual(s.at(0.3), { threshold: 0.3, far: 0, frr: 1 / 4 });
  assert.deepEqual(s.at(1), { threshold: 1, far: 1, frr: 0 });
});

test('EER is where FAR and FRR cross', () => {
  // 10 genuine at 0.0..0.9, 10 impostors at 0.85..1.75: one of each overlaps.
  const genuine = Array.from({ length: 10 }, (_, i) => i / 10);
  const impostor = Array.from({ length: 10 }, (_, i) => 0.85 + i / 10);
  const eer = new ScoreSet(genuine, impostor).equalErrorRate();
  assert.ok(Math.abs(eer.eer - 0.1) < 1e-9, `eer ${eer.eer}`);
  assert.equal(eer.far, eer.frr);
});

test('failed acquisitions (+Infinity) are never accepted', () => {
  const s = new ScoreSet([0.1, Infinity], [Infinity, 0.9]);
  assert.equal(s.at(Number.MAX_VALUE).frr, 1 / 2);
  assert.equal(s.at(Number.MAX_VALUE).far, 1 / 2);
});

test('FRR at a FAR budget uses the largest threshold that stays within it', () => {
  const impostor = Array.from({ length: 1000 }, (_, i) => 0.5 + i / 1000);
  const genuine = [0.1, 0.4, 0.5005, 0.6];
  const r = new ScoreSet(genuine, impostor).frrAtFar(0.001);
  assert.equal(r.far, 0.001); // exactly one impostor (0.5) accepted: the threshold sits just below 0.501
  assert.equal(r.frr, 1 / 4); // only 0.6 is rejected
});

test('percentile is the nearest-rank value', () => {
  const v = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(v, 50), 50);
  assert.equal(percentile(v, 95), 95);
  assert.equal(percentile([7], 95), 7);
});
