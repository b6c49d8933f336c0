// How eval:fusion pairs EEG people with face identities and forms its trials (no models run).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chimericTrials, chimericUsers } from '../../scripts/fusion/chimeric-users.js';
import type { HeldOutFold } from '../../scripts/fusion/eeg-out-of-fold.js';
import type { FaceSample } from '../../scripts/face-dataset.js';
import { seededRandom } from '../../scripts/seeded-random.js';

// One-hot vectors: a person's own EEG probes score cosine 1 against their template, anyone else's 0;
// photos of one identity are at distance 0, of two identities at √2.
const oneHot = (i: number, n: number) => Float32Array.from({ length: n }, (_, j) => (j === i ? 1 : 0));
const EEG_PEOPLE = 5;
const person = (i: number) => ({
  id: `Subject0${i}`,
  template: oneHot(i, EEG_PEOPLE),
  crossCondition: [oneHot(i, EEG_PEOPLE), oneHot(i, EEG_PEOPLE)],
  sameCondition: [oneHot(i, EEG_PEOPLE), oneHot(i, EEG_PEOPLE), oneHot(i, EEG_PEOPLE)],
});
const folds: HeldOutFold[] = [
  { index: 0, people: [person(0), person(3)] },
  { index: 1, people: [person(1), person(2), person(4)] },
];
const IDENTITIES = 12;
const faces: FaceSample[] = Array.from({ length: IDENTITIES }, (_, k) =>
  Array.from({ length: 2 + (k % 3) }, (_, p) => ({ identity: `person-${k}`, file: `person-${k}/${p}.jpg`, embedding: oneHot(k, IDENTITIES) })),
).flat();
// An identity with a single acquired photo cannot give a genuine face probe and is never drawn.
faces.push({ identity: 'one-photo', file: 'one-photo/0.jpg', embedding: oneHot(0, IDENTITIES) }, { identity: 'one-photo', file: 'one-photo/1.jpg', failure: 'no_face' });

test('each EEG person gets its own face identities, drawn only from those with two acquired photos', () => {
  const users = chimericUsers(folds, faces, 2, seededRandom(1));
  assert.equal(users.length, 2 * EEG_PEOPLE);
  assert.equal(new Set(users.map((u) => u.face.identity)).size, users.length);
  assert.ok(users.every((u) => u.face.identity !== 'one-photo' && u.face.photos.length >= 2));
  for (const p of [0, 1, 2, 3, 4]) assert.equal(users.filter((u) => u.eeg.id === `Subject0${p}`).length, 2);
  assert.ok(users.every((u) => u.fold === folds.find((f) => f.people.some((q) => q.id === u.eeg.id))!.index));
  assert.deepEqual(chimericUsers(folds, faces, 2, seededRandom(1)).map((u) => u.face.identity), users.map((u) => u.face.identity));
  assert.throws(() => chimericUsers(folds, faces, 3, seededRandom(1)), /need as many face identities/);
});

test('impostor trials never share the EEG person or the face, and stay inside an EEG fold', () => {
  const users = chimericUsers(folds, faces, 2, seededRandom(1));
  for (const condition of ['crossCondition', 'sameCondition'] as const) {
    const { genuine, impostor, distinctImpostorScores } = chimericTrials(users, condition);
    const eegProbes = condition === 'crossCondition' ? 2 : 3;
    assert.ok(genuine.every((t) => t.eeg === 1 && t.face === 0));
    assert.equal(genuine.length, users.reduce((n, u) => n + u.face.probes.length * eegProbes, 0));
    // Attackers bring every photo and every EEG probe of their own, both from the same person.
    assert.ok(impostor.every((t) => t.eeg === 0 && Math.abs(t.face - Math.SQRT2) < 1e-6));
    let expected = 0;
    let faceScores = 0;
    for (const claimed of users) {
      for (const attacker of users) {
        if (attacker.fold !== claimed.fold || attacker.eeg.id === claimed.eeg.id) continue;
        expected += attacker.face.photos.length * eegProbes;
        faceScores += attacker.face.photos.length;
      }
    }
    assert.equal(impostor.length, expected);
    // Ordered pairs of different EEG people inside a fold: 2·1 in the first, 3·2 in the second.
    assert.deepEqual(distinctImpostorScores, { face: faceScores, eeg: (2 * 1 + 3 * 2) * eegProbes });
  }
});
