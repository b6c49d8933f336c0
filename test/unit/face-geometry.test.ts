// Pure geometry and parsing pieces of the face pipeline.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHIP_TEMPLATE, chipTransform, FIRST_TEMPLATE_LANDMARK } from '../../src/biometrics/face/align.js';
import { ssdAnchors } from '../../src/biometrics/face/anchors.js';
import { chooseFace } from '../../src/biometrics/face/choose-face.js';
import type { Detection } from '../../src/biometrics/face/detector.js';
import { FaceError } from '../../src/biometrics/face/errors.js';
import type { Point } from '../../src/biometrics/face/image.js';
import { parseNetpbmHeader } from '../../src/biometrics/face/netpbm.js';
import { iou, nonMaxSuppression } from '../../src/biometrics/face/nms.js';

test('SSD anchors: 5118 at the trained 512, pixel sizes kept at other sizes', () => {
  const a512 = ssdAnchors(512);
  const a256 = ssdAnchors(256);
  assert.equal(a512.length / 4, 5118);
  assert.equal(a256.length / 4, 16 * 16 * 3 + 8 * 8 * 6 + 4 * 4 * 6 + 2 * 2 * 6 + 6 + 6);
  // First anchor: scale 0.1 of 512 px; at 256 the same 51.2 px are 0.2 of the input.
  assert.ok(Math.abs(a512[2]! - 0.1) < 1e-6 && Math.abs(a256[2]! - 0.2) < 1e-6);
});

test('NMS keeps the best of overlapping boxes and leaves separate ones', () => {
  const box = (x: number, score: number): Detection => ({ box: { x, y: 0, width: 10, height: 10 }, score });
  assert.equal(iou(box(0, 1).box, box(5, 1).box), 50 / 150);
  const kept = nonMaxSuppression([box(0, 0.6), box(1, 0.9), box(30, 0.7)], 0.5, 10);
  assert.deepEqual(kept.map((d) => d.score), [0.9, 0.7]);
});

test('choosing the face: none, one dominant, two alike', () => {
  const frame = { width: 400, height: 300 };
  const face = (x: number, y: number, side: number): Detection => ({ box: { x, y, width: side, height: side }, score: 0.9 });
  assert.throws(() => chooseFace([], frame), (e: unknown) => e instanceof FaceError && e.reason === 'no_face');
  const user = face(150, 100, 100);
  assert.equal(chooseFace([user, face(10, 10, 40)], frame), user);
  assert.throws(() => chooseFace([face(40, 100, 100), face(260, 100, 100)], frame), (e: unknown) => e instanceof FaceError && e.reason === 'multiple_faces');
});

test('alignment recovers a known similarity transform from the landmarks', () => {
  // Landmarks 17–67 placed exactly on the chip template moved by a 30° rotation, ×2 scale and a
  // shift: the fitted transform must map every chip pixel through that same motion.
  const t = { a: 2 * Math.cos(Math.PI / 6), b: 2 * Math.sin(Math.PI / 6), tx: 40, ty: -7 };
  const jaw: Point[] = Array.from({ length: FIRST_TEMPLATE_LANDMARK }, () => ({ x: 0, y: 0 }));
  const landmarks = [...jaw, ...CHIP_TEMPLATE.map((p) => ({ x: t.a * p.x - t.b * p.y + t.tx, y: t.b * p.x + t.a * p.y + t.ty }))];
  const fitted = chipTransform(landmarks);
  for (const [u, v] of [[0, 0], [10, 20], [149, 75]] as const) {
    // Pixel index u has its centre at u + 0.5, in the chip and in the image alike.
    const expected = { x: t.a * (u + 0.5) - t.b * (v + 0.5) + t.tx - 0.5, y: t.b * (u + 0.5) + t.a * (v + 0.5) + t.ty - 0.5 };
    const got = { x: fitted.a * u - fitted.b * v + fitted.tx, y: fitted.b * u + fitted.a * v + fitted.ty };
    assert.ok(Math.hypot(got.x - expected.x, got.y - expected.y) < 1e-9, JSON.stringify({ u, v, got, expected }));
  }
});

test('PGM/PPM headers: dimensions, comments, and refusal of anything else', () => {
  const pgm = Buffer.concat([Buffer.from('P5\n# a comment\n92 112\n255\n'), Buffer.alloc(92 * 112)]);
  assert.deepEqual(parseNetpbmHeader(pgm), { width: 92, height: 112, channels: 1, dataOffset: 26 });
  assert.equal(parseNetpbmHeader(Buffer.from('P6 2 2 65535\n')), undefined);
  assert.equal(parseNetpbmHeader(Buffer.from('\xff\xd8\xff')), undefined);
});
