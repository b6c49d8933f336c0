// The face step's replay check on real photos: a recorded burst sent again is refused as it is and
// after each re-encoding an attacker might try (JPEG quality, resize, 1–2 px shift, brightness ±10 %,
// and combinations), while new photos of the same person are not taken for a replay.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../config/load.js';
import { isFaceError } from '../../src/biometrics/face/index.js';
import { createLogger } from '../../src/log.js';
import { SealedBox } from '../../src/security/sealed-box.js';
import { SealedMemory } from '../../src/security/sealed-memory.js';
import { openServices, type Services } from '../../src/services.js';
import type { BurstFrame } from '../../src/steps/face/liveness.js';
import { ReplayGuard, sameCapture } from '../../src/steps/face/replay-guard.js';
import { analyseFrame } from '../support/face-images.js';
import { REENCODINGS } from '../support/reencode.js';
import { identityImages, sharedPipeline } from './face-support.js';

type Frame = BurstFrame & { bytes: Buffer };

let services: Services;
let dir: string;
let guard: ReplayGuard;
// Five photos of one person as a recorded burst, five others of the same person as a fresh one.
let recorded: Frame[];
let fresh: Frame[];

async function frameOf(bytes: Buffer): Promise<Frame | undefined> {
  try {
    return { ...(await analyseFrame(await sharedPipeline(), bytes)), bytes };
  } catch (error) {
    // A copy the pipeline refuses (a face shrunk below the size limit) cannot be part of a burst at all.
    if (isFaceError(error)) return undefined;
    throw error;
  }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-face-replay-'));
  services = await openServices(loadConfig({ DATA_DIR: dir, TESSERA_MASTER_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'silent' }), createLogger('silent'));
  guard = new ReplayGuard(services.shortLivedRecords, new SealedMemory(new SealedBox(randomBytes(32), 'face-replay'), services.log), 60);
  const [person] = await identityImages('faces-lfw-dev', 1, 10);
  const frames: Frame[] = [];
  for (const file of person!.files) {
    const frame = await frameOf(await readFile(file));
    if (frame) frames.push(frame);
  }
  assert.ok(frames.length >= 10, `${frames.length} usable photos`);
  [recorded, fresh] = [frames.slice(0, 5), frames.slice(5, 10)];
});

after(async () => {
  await services.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a recorded burst sent again', () => {
  test('as it is, or with one frame byte-identical, is refused', async () => {
    assert.equal(await guard.seenBefore('as-is', recorded), false, 'first time');
    assert.equal(await guard.seenBefore('as-is', recorded), true);
    assert.equal(await guard.seenBefore('one-frame', recorded), false);
    assert.equal(await guard.seenBefore('one-frame', [...fresh.slice(0, 4), recorded[2]!]), true);
  });

  for (const [name, { family, apply }] of Object.entries(REENCODINGS)) {
    test(`re-encoded (${family}: ${name}) is refused, every usable frame recognised`, async () => {
      const account = `reencoded-${name}`;
      assert.equal(await guard.seenBefore(account, recorded), false);
      const copies: Frame[] = [];
      for (const original of recorded) {
        const copy = await frameOf(await apply(original.bytes));
        if (!copy) continue;
        assert.ok(sameCapture(original, copy), `${name}: a copy not recognised`);
        copies.push(copy);
      }
      // Halving the size of these 250-pixel photos makes some faces too small to use.
      assert.ok(copies.length >= (name.includes('0.5') ? 2 : 5), `${copies.length} usable copies`);
      assert.equal(await guard.seenBefore(account, copies), true);
    });
  }
});

describe('new captures of the same person', () => {
  test('are not a replay, nor copies of the recorded frames', async () => {
    assert.equal(await guard.seenBefore('fresh', recorded), false);
    assert.equal(await guard.seenBefore('fresh', fresh), false);
    for (const a of recorded) for (const b of fresh) assert.equal(sameCapture(a, b), false);
  });

  test('another account may send the same pictures (the memory is per account)', async () => {
    assert.equal(await guard.seenBefore('first', recorded.map((f) => ({ ...f, bytes: Buffer.concat([f.bytes, Buffer.from([0])]) }))), false);
    assert.equal(await guard.seenBefore('second', recorded.map((f) => ({ ...f, bytes: Buffer.concat([f.bytes, Buffer.from([1])]) }))), false);
  });
});
