// `npm run eval:face-replay -- [--data <dir>] [--people 80] [--photos 6]`: how close re-encoded
// copies of a frame come to the original (JPEG quality, resize, 1–2 px shift, brightness ±10 %, and
// combinations) against how far other photos of the same person are, in the face step's replay
// measures (landmark shape, embedding, and the face dHash for comparison); and how often the
// replay check (SAME_CAPTURE) recognises a copy or mistakes a new photo for one. Prints JSON on
// stdout; progress goes to stderr. The data is a folder with one sub-folder of photos per person.
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { embeddingDistance, isFaceError } from '../src/biometrics/face/index.js';
import { percentile } from '../src/biometrics/face/evaluation.js';
import { shapeDistance } from '../src/steps/face/face-shape.js';
import { hashDistance } from '../src/steps/face/frame-hash.js';
import type { BurstFrame } from '../src/steps/face/liveness.js';
import { SAME_CAPTURE, sameCapture } from '../src/steps/face/replay-guard.js';
import { analyseFrame } from '../test/support/face-images.js';
import { REENCODINGS } from '../test/support/reencode.js';
import { sharedDataDir, sharedPipeline } from '../test/unit/face-support.js';

const { values } = parseArgs({ options: { data: { type: 'string' }, people: { type: 'string' }, photos: { type: 'string' } } });
const root = resolve(values.data ?? join(sharedDataDir(), 'faces-lfw-dev'));
const maxPeople = Number(values.people ?? 80);
const maxPhotos = Number(values.photos ?? 6);
// Re-encoded copies are made of this many photos per person.
const ORIGINALS = 2;
// A person with this many usable photos also gives a recorded burst and a fresh one.
const BURST = 5;

const pipeline = await sharedPipeline();
const frameOf = (bytes: Buffer) => analyseFrame(pipeline, bytes).catch((error: unknown) => (isFaceError(error) ? undefined : Promise.reject(error)));
const distances = (a: BurstFrame, b: BurstFrame) => ({ shape: shapeDistance(a.shape, b.shape), embedding: embeddingDistance(a.embedding, b.embedding), dHashBits: hashDistance(a.hash, b.hash) });
type Distances = ReturnType<typeof distances>;
// Percentiles of each measure; p0 is the smallest value.
const summary = (ds: Distances[], at: number[]) =>
  Object.fromEntries(
    (['shape', 'embedding', 'dHashBits'] as const).map((k) => {
      const values = ds.map((d) => d[k]);
      return [k, Object.fromEntries(at.map((p) => [`p${p}`, Number((p === 0 ? Math.min(...values) : percentile(values, p)).toFixed(3))]))];
    }),
  );

const people = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
const copies: Record<string, { frames: number; refusedByPipeline: number; distances: Distances[]; recognised: number }> = {};
const freshPairs: Distances[] = [];
let freshMatches = 0;
const bursts = { pairs: 0, falselyRefused: 0 };
let used = 0;
for (const person of people) {
  if (used === maxPeople) break;
  const files = (await readdir(join(root, person))).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort();
  if (files.length < 2) continue;
  const photos: { bytes: Buffer; frame: BurstFrame }[] = [];
  for (const file of files.slice(0, Math.max(maxPhotos, 2 * BURST))) {
    const bytes = await readFile(join(root, person, file));
    const frame = await frameOf(bytes);
    if (frame) photos.push({ bytes, frame });
  }
  if (photos.length < 2) continue;
  used++;
  const sample = photos.slice(0, maxPhotos);
  for (let i = 0; i < sample.length; i++) {
    for (let j = i + 1; j < sample.length; j++) {
      freshPairs.push(distances(sample[i]!.frame, sample[j]!.frame));
      if (sameCapture(sample[i]!.frame, sample[j]!.frame)) freshMatches++;
    }
  }
  if (photos.length >= 2 * BURST) {
    // The replay check's burst rule: half the frames or more copies of the earlier burst's.
    const [recorded, fresh] = [photos.slice(0, BURST), photos.slice(BURST, 2 * BURST)];
    const matching = fresh.filter((f) => recorded.some((r) => sameCapture(r.frame, f.frame))).length;
    bursts.pairs++;
    if (matching * 2 >= BURST) bursts.falselyRefused++;
  }
  for (const original of sample.slice(0, ORIGINALS)) {
    for (const [name, { apply }] of Object.entries(REENCODINGS)) {
      const entry = (copies[name] ??= { frames: 0, refusedByPipeline: 0, distances: [], recognised: 0 });
      entry.frames++;
      const copy = await frameOf(await apply(original.bytes));
      if (!copy) {
        entry.refusedByPipeline++;
        continue;
      }
      entry.distances.push(distances(original.frame, copy));
      if (sameCapture(original.frame, copy)) entry.recognised++;
    }
  }
  process.stderr.write(`${used}/${maxPeople} ${person}\n`);
}

const allCopies = Object.values(copies).flatMap((c) => c.distances);
const report = {
  data: root,
  people: used,
  tolerance: SAME_CAPTURE,
  reencoded: Object.fromEntries(
    Object.entries(copies).map(([name, c]) => [
      name,
      { family: REENCODINGS[name]!.family, frames: c.frames, refusedByPipeline: c.refusedByPipeline, recognised: c.recognised, recognisedRate: Number((c.recognised / c.distances.length).toFixed(4)), ...summary(c.distances, [50, 100]) },
    ]),
  ),
  allCopies: { frames: allCopies.length, recognised: Object.values(copies).reduce((n, c) => n + c.recognised, 0), ...summary(allCopies, [50, 95, 100]) },
  freshPhotosOfSamePerson: { pairs: freshPairs.length, takenForCopies: freshMatches, rate: Number((freshMatches / freshPairs.length).toFixed(4)), ...summary(freshPairs, [0, 1, 5, 50]) },
  freshBursts: { ...bursts, note: `${BURST} photos recorded, ${BURST} others of the same person sent as a new burst` },
};
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
