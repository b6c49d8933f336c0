import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { BloomFilter } from '../../src/accounts/bloom-filter.js';
import { BREACHED_FILTER_FILE, breachedListEntries, BreachedPasswords } from '../../src/accounts/breached-passwords.js';

// Share of `probes` (none of them added) that the filter says it may hold.
const falsePositiveRate = (filter: { has(v: string): boolean }, probes: string[]) => probes.filter((p) => filter.has(p)).length / probes.length;

test('a Bloom filter holds all it was given, says "maybe" for others at about its target rate, and survives its file form', () => {
  const filter = BloomFilter.sized(20_000, 1e-3);
  const members = Array.from({ length: 20_000 }, (_, i) => `member-${i}`);
  for (const m of members) filter.add(m);
  assert.ok(members.every((m) => filter.has(m)), 'no false negatives');
  const others = Array.from({ length: 100_000 }, (_, i) => `other-${i}`);
  const rate = falsePositiveRate(filter, others);
  assert.ok(rate > 0.3e-3 && rate < 2e-3, `false-positive rate ${rate} is not near 1e-3`);

  const copy = BloomFilter.fromBytes(filter.toBytes());
  assert.equal(copy.count, 20_000);
  assert.equal(falsePositiveRate(copy, others), rate);
  assert.ok(members.every((m) => copy.has(m)));
  assert.throws(() => BloomFilter.fromBytes(filter.toBytes().subarray(0, 1000)), /truncated/);
  assert.throws(() => BloomFilter.fromBytes(Buffer.from('not a filter at all')), /not a Bloom filter/);
});

test('the breached-password filter built at install finds list entries in any case and rarely anything else', async (t) => {
  const filter = BloomFilter.fromBytes(readFileSync(BREACHED_FILTER_FILE));
  const list = await breachedListEntries();
  assert.equal(filter.count, list.size);
  const breached = new BreachedPasswords(filter);
  const sample = [...list].filter((p, i) => i % 100 === 0 && /^[\x20-\x7e]+$/.test(p));
  assert.ok(sample.every((p) => breached.includes(p) && breached.includes(p.toUpperCase())), 'every sampled entry is found, also upper-cased');
  assert.ok(breached.includes('Password123') && breached.includes('Teleseti83'));

  // Strings shaped like passwords, checked to be absent from the list.
  const others = Array.from({ length: 200_000 }, (_, i) => `Zq${i.toString(36)}-${(i * 7919).toString(36)}!`).filter((p) => !list.has(p.toLowerCase()));
  const started = performance.now();
  const rate = falsePositiveRate({ has: (p) => breached.includes(p) }, others);
  const microseconds = ((performance.now() - started) * 1000) / others.length;
  t.diagnostic(`false-positive rate ${rate.toExponential(2)} over ${others.length} strings; ${microseconds.toFixed(2)} µs a lookup`);
  assert.ok(rate < 3e-5, `false-positive rate ${rate} is above three times the 1e-5 target`);
});
