import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecentLookups } from '../../src/db/recent-lookups.js';

function counting(ttlMs: number) {
  const loads: string[] = [];
  const recent = new RecentLookups(async (key: string) => {
    loads.push(key);
    return `${key}@${loads.length}`;
  }, ttlMs);
  return { recent, loads };
}

test('concurrent and repeated lookups within the time share one load', async () => {
  const { recent, loads } = counting(1000);
  const [a, b] = await Promise.all([recent.get('x'), recent.get('x')]);
  assert.equal(a, 'x@1');
  assert.equal(b, 'x@1');
  assert.equal(await recent.get('x'), 'x@1');
  assert.deepEqual(loads, ['x']);
});

test('after the time, and after forget, the next lookup loads again', async () => {
  const { recent, loads } = counting(30);
  await recent.get('x');
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(await recent.get('x'), 'x@2');
  recent.forget('x');
  assert.equal(await recent.get('x'), 'x@3');
  assert.equal(loads.length, 3);
});

test('a remembered value is served without a load; a failed load is not kept', async () => {
  const recent = new RecentLookups<string>(async () => {
    throw new Error('database down');
  }, 1000);
  recent.remember('y', 'known');
  assert.equal(await recent.get('y'), 'known');
  await assert.rejects(recent.get('z'), /database down/);
  await assert.rejects(recent.get('z'), /database down/, 'tried again, not a cached failure');
});
