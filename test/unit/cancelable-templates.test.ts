// Cancelable templates: keyed, deterministic per key, unlinkable across keys, faithful to the angle.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { angleBetween, CancelableScheme, chordOfAngle, decodeTemplate, encodeTemplate, hammingFraction, TemplateFormatError } from '../../src/biometrics/cancelable/index.js';
import { globalLinkability } from '../../src/biometrics/cancelable/evaluation.js';
import { seededRandom } from '../../scripts/seeded-random.js';

// Normal deviates from the seeded generator (Box–Muller), so a failure reproduces.
function gaussians(seed: number) {
  const uniform = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

function unit(d: number, next: () => number): Float32Array {
  const v = Float32Array.from({ length: d }, next);
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

/** A unit vector at angle `angle` from unit vector `a`. */
function atAngle(a: Float32Array, angle: number, next: () => number): Float32Array {
  const r = unit(a.length, next);
  const dot = r.reduce((sum, x, i) => sum + x * a[i]!, 0);
  const orthogonal = unit(a.length, (() => { let i = 0; return () => r[i]! - dot * a[i++]!; })());
  return a.map((x, i) => Math.cos(angle) * x + Math.sin(angle) * orthogonal[i]!);
}

const next = gaussians(7);
const master = randomBytes(32);

test('the same key gives the same bits; the stored form round-trips', () => {
  const scheme = new CancelableScheme(master, 'face');
  const e = unit(128, next);
  const t = scheme.issue(e);
  assert.equal(t.bitCount, scheme.bitCount);
  assert.deepEqual(new CancelableScheme(master, 'face').protect(e, t.salt, t.bitCount).bits, t.bits);
  assert.equal(scheme.angle(e, t), 0);
  assert.deepEqual(decodeTemplate(encodeTemplate(t)), t);
  const bytes = encodeTemplate(t);
  bytes[0] = 2;
  assert.throws(() => decodeTemplate(bytes), TemplateFormatError);
  assert.throws(() => decodeTemplate(encodeTemplate(t).subarray(0, 40)), /wrong length/);
});

test('the estimated angle follows the true one, at any embedding size', () => {
  for (const d of [100, 128, 320, 384]) {
    const scheme = new CancelableScheme(master, 'neural');
    for (const angle of [0.1, 0.4, 0.8, 1.3, 2]) {
      const errors: number[] = [];
      for (let k = 0; k < 10; k++) {
        const a = unit(d, next);
        const b = atAngle(a, angle, next);
        assert.ok(Math.abs(angleBetween(a, b) - angle) < 1e-4);
        errors.push(scheme.angle(b, scheme.issue(a)) - angle);
      }
      const bias = errors.reduce((x, y) => x + y, 0) / errors.length;
      const worst = Math.max(...errors.map(Math.abs));
      // The estimate's SD is π·√(p(1−p)/bits), p = θ/π: at most 0.018 rad at 8192 bits.
      assert.ok(Math.abs(bias) < 0.015 && worst < 0.07, `d=${d} θ=${angle}: bias ${bias.toFixed(3)}, worst ${worst.toFixed(3)}`);
    }
  }
});

test('another master key or a new salt projects the same embedding onto unrelated bits', () => {
  const scheme = new CancelableScheme(master, 'face');
  const other = new CancelableScheme(randomBytes(32), 'face');
  const neural = new CancelableScheme(master, 'neural');
  // Unrelated bit strings differ in half their bits, give or take 4 SD (0.5/√bits each).
  const limit = 4 * (0.5 / Math.sqrt(scheme.bitCount));
  for (let k = 0; k < 20; k++) {
    const e = unit(128, next);
    const t = scheme.issue(e);
    for (const u of [scheme.issue(e), other.issue(e), other.protect(e, t.salt, t.bitCount), neural.protect(e, t.salt, t.bitCount)]) {
      const h = hammingFraction(t.bits, u.bits, t.bitCount);
      assert.ok(Math.abs(h - 0.5) < limit, `hamming fraction ${h}`);
      // And the owner's own embedding, as a probe, is not accepted by a template of another key.
      assert.ok(chordOfAngle(Math.PI * h) > 1.2);
    }
  }
});

test('the bits do not contain the embedding', () => {
  const scheme = new CancelableScheme(master, 'face');
  const agreements: number[] = [];
  for (let k = 0; k < 50; k++) {
    const e = unit(128, next);
    const stored = encodeTemplate(scheme.issue(e));
    // No float of the embedding appears in the stored bytes.
    for (let i = 0; i < e.length; i++) assert.equal(stored.indexOf(Buffer.from(e.buffer, i * 4, 4)), -1);
    // Nor its signs: the first bits agree with sign(e) as often as chance.
    const t = decodeTemplate(stored);
    for (let i = 0; i < e.length; i++) agreements.push(Number(((t.bits[i >> 3]! >> (i & 7)) & 1) === Number(e[i]! > 0)));
  }
  const rate = agreements.reduce((a, b) => a + b, 0) / agreements.length;
  assert.ok(Math.abs(rate - 0.5) < 0.03, `sign agreement ${rate}`);
});

test('a probe of another size is refused, not scored', () => {
  const scheme = new CancelableScheme(master, 'neural');
  assert.throws(() => scheme.angle(unit(320, next), scheme.issue(unit(384, next))), /384 dimensions, probe of 320/);
});

test('global linkability: 0 for identical score distributions, 1 for disjoint ones', () => {
  const same = Array.from({ length: 20000 }, next);
  assert.ok(globalLinkability(same.slice(0, 10000), same.slice(10000), 20) < 0.05);
  assert.equal(globalLinkability(same.map((x) => x + 100), same), 1);
});

test("a stream's matcher (signs drawn once) gives exactly the angle of each probe's own projection", () => {
  const scheme = new CancelableScheme(master, 'neural');
  const enrolled = unit(512, next);
  const stored = { kind: 'cancelable' as const, template: scheme.issue(enrolled) };
  const matcher = scheme.matcher(stored);
  for (let i = 0; i < 20; i++) {
    const probe = i % 2 ? unit(512, next) : atAngle(enrolled, 0.3 + i / 40, next);
    const own = Math.PI * hammingFraction(scheme.protect(probe, stored.template.salt, stored.template.bitCount).bits, stored.template.bits, stored.template.bitCount);
    assert.equal(matcher(probe), own);
  }
  assert.throws(() => matcher(unit(384, next)), /512 dimensions, probe of 384/);
  const plain = scheme.matcher({ kind: 'embedding', vector: enrolled });
  assert.equal(plain(enrolled), angleBetween(enrolled, enrolled));
});
