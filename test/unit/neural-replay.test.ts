import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalise } from '../../src/biometrics/neural/similarity.js';
import { findReplay } from '../../src/steps/neural/replay.js';
import { seededRandom } from './neural-fixtures.js';

const random = seededRandom(11);
const vector = () => normalise(Float32Array.from({ length: 64 }, () => random() - 0.5));
const nudge = (v: Float32Array, by: number) => normalise(v.map((x) => x + by * (random() - 0.5)));
const digest = (c: string) => c.repeat(64);

test('an earlier digest is an exact replay, whatever the embeddings', () => {
  const earlier = [{ kind: 'probe' as const, digest: digest('a'), windows: [vector()] }];
  assert.deepEqual(findReplay(digest('a'), [vector()], earlier, 0.85), { replay: true, match: 'exact', of: 'probe', similarity: 1 });
});

test('a window almost identical to any earlier window is a near-duplicate; an unrelated one is not', () => {
  const enrolled = [vector(), vector(), vector()];
  const earlier = [{ kind: 'enrollment' as const, digest: digest('b'), windows: enrolled }];
  const near = findReplay(digest('c'), [vector(), nudge(enrolled[1]!, 0.05)], earlier, 0.85);
  assert.equal(near.replay && near.match, 'near_duplicate');
  assert.equal(near.replay && near.of, 'enrollment');
  const fresh = findReplay(digest('c'), [vector()], earlier, 0.85);
  assert.equal(fresh.replay, false);
  assert.ok(fresh.similarity < 0.85);
  assert.equal(findReplay(digest('c'), [vector()], [], 0.85).replay, false);
});
