// The liveness rules and the challenge/replay bookkeeping of the face step, on their own.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { loadConfig } from '../../config/load.js';
import { createLogger } from '../../src/log.js';
import { SealedBox } from '../../src/security/sealed-box.js';
import { openServices, type Services } from '../../src/services.js';
import { BURST_QUALITY } from '../../src/steps/face/burst.js';
import { CHALLENGE_KINDS, Challenges } from '../../src/steps/face/challenge.js';
import { faceHash, hashDistance } from '../../src/steps/face/frame-hash.js';
import { headPose } from '../../src/steps/face/head-pose.js';
import { checkLiveness, DEFAULT_LIVENESS, type BurstFrame } from '../../src/steps/face/liveness.js';
import { ReplayGuard } from '../../src/steps/face/replay-guard.js';
import { BurstBuilder, posedPhotos } from '../support/face-images.js';
import { identityImages, sharedDataDir, sharedPipeline } from './face-support.js';

// A frame with a given pose; embeddings on the unit circle so identity drift is controlled.
const frame = (yaw: number, pitch: number, hashByte: number, angle = 0): BurstFrame => {
  const embedding = new Float32Array(128);
  embedding[0] = Math.cos(angle);
  embedding[1] = Math.sin(angle);
  return { embedding, pose: { yaw, pitch }, hash: Buffer.alloc(32, hashByte).toString('hex') };
};
const turnLeft = [frame(0.02, 0.55, 0x00), frame(0.1, 0.55, 0x0f), frame(0.18, 0.55, 0xf0), frame(0.26, 0.55, 0x33), frame(0.33, 0.55, 0xcc)];

describe('liveness rules', () => {
  test('a head turning to the asked side passes; the most frontal frame is the probe', () => {
    assert.deepEqual(checkLiveness(turnLeft, 'turn_left'), { ok: true, probe: 0, movement: 0.31 });
  });

  test('the same burst does not answer the opposite or a vertical challenge', () => {
    for (const kind of ['turn_right', 'look_up', 'look_down'] as const) {
      const result = checkLiveness(turnLeft, kind);
      assert.equal(result.ok, false, kind);
      assert.equal(!result.ok && result.reason, 'challenge_not_followed');
    }
  });

  test('nodding is read from the nose between eyes and mouth', () => {
    const nod = [0.6, 0.56, 0.52, 0.49, 0.45].map((pitch, i) => frame(0.01 * i, pitch, i * 40));
    assert.equal(checkLiveness(nod, 'look_up').ok, true);
    assert.equal(checkLiveness(nod, 'look_down').ok, false);
  });

  test('repeated frames, a start facing away and a change of person are refused', () => {
    const still = [turnLeft[0]!, turnLeft[0]!, ...turnLeft.slice(1)];
    assert.deepEqual(checkLiveness(still, 'turn_left'), { ok: false, reason: 'static_frames' });
    const away = [frame(0.3, 0.55, 1), ...turnLeft.slice(1)];
    assert.equal((checkLiveness(away, 'turn_left') as { reason: string }).reason, 'not_facing_camera');
    const swapped = [...turnLeft.slice(0, 4), frame(0.33, 0.55, 0x5a, Math.PI / 3)];
    assert.equal((checkLiveness(swapped, 'turn_left') as { reason: string }).reason, 'identity_changed');
  });
});

describe('head pose and frame hashes on real photos', () => {
  let photo: Buffer;
  before(async () => {
    const [person] = await identityImages('faces-lfw-dev', 1, 1);
    photo = await readFile(person!.files[0]!);
  });

  test('a mirrored photo turns the yaw around and keeps the pitch', async () => {
    const pipeline = await sharedPipeline();
    const mirrored = await sharp(photo).flop().jpeg({ quality: 95 }).toBuffer();
    const [a, b] = [headPose((await pipeline.analyse(photo, BURST_QUALITY)).landmarks), headPose((await pipeline.analyse(mirrored, BURST_QUALITY)).landmarks)];
    assert.ok(Math.abs(a.yaw + b.yaw) < 0.03, `${a.yaw} vs ${b.yaw}`);
    assert.ok(Math.abs(a.pitch - b.pitch) < 0.03, `${a.pitch} vs ${b.pitch}`);
  });

  test('a flat photo turned about its vertical axis does not move the yaw like a head turn', async () => {
    // Seen from a distance, a print turned by θ is the same picture compressed horizontally by
    // cos θ: the nose stays on the eyes' midline. (Perspective is not simulated here.)
    const pipeline = await sharedPipeline();
    // A frame the pipeline refuses cannot take part in a burst at all.
    const yawOf = (bytes: Buffer) => pipeline.analyse(bytes, BURST_QUALITY).then((a) => headPose(a.landmarks).yaw, () => undefined);
    const changes: number[] = [];
    for (const { files } of await identityImages('faces-lfw-dev', 12, 1)) {
      const bytes = await readFile(files[0]!);
      const upright = await yawOf(bytes);
      if (upright === undefined || Math.abs(upright) > DEFAULT_LIVENESS.maxStartYaw) continue;
      for (const degrees of [20, 40, 60]) {
        const width = Math.round(250 * Math.cos((degrees * Math.PI) / 180));
        const turned = await sharp(bytes).resize(width, 250, { fit: 'fill' }).extend({ left: 60, right: 60, background: '#777' }).jpeg().toBuffer();
        const yaw = await yawOf(turned);
        if (yaw !== undefined) changes.push(Math.abs(yaw - upright));
      }
    }
    assert.ok(changes.length >= 18, `${changes.length} turned photos analysed`);
    assert.ok(Math.max(...changes) < DEFAULT_LIVENESS.minTurn, `largest yaw change ${Math.max(...changes).toFixed(3)}`);
  });

  test('bursts of real photos chosen by pose answer their own movement and no other', async () => {
    const pipeline = await sharedPipeline();
    const photos = await posedPhotos(pipeline, join(sharedDataDir(), 'faces-lfw-dev', 'Jennifer_Capriati'));
    for (const kind of CHALLENGE_KINDS) {
      const frames: BurstFrame[] = [];
      for (const bytes of new BurstBuilder(photos).take(kind).frames) {
        const analysis = await pipeline.analyse(bytes, BURST_QUALITY);
        frames.push({ embedding: analysis.embedding, pose: headPose(analysis.landmarks), hash: await faceHash(bytes, analysis.box, analysis.imageSize) });
      }
      for (const asked of CHALLENGE_KINDS) assert.equal(checkLiveness(frames, asked).ok, asked === kind, `${kind} burst, ${asked} asked`);
    }
  });

  test('a re-encoded copy hashes close, another photo far', async () => {
    const pipeline = await sharedPipeline();
    const [other] = (await identityImages('faces-lfw-dev', 2, 1)).slice(1);
    const hashOf = async (bytes: Buffer) => {
      const a = await pipeline.analyse(bytes);
      return faceHash(bytes, a.box, a.imageSize);
    };
    const original = await hashOf(photo);
    assert.ok(hashDistance(original, await hashOf(await sharp(photo).jpeg({ quality: 60 }).toBuffer())) <= 40);
    assert.ok(hashDistance(original, await hashOf(await readFile(other!.files[0]!))) > 60);
  });
});

describe('challenges and replays in the short-lived store', () => {
  let services: Services;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-face-unit-'));
    const config = loadConfig({ DATA_DIR: dir, TESSERA_MASTER_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'silent' });
    services = await openServices(config, createLogger('silent'));
  });
  after(async () => {
    await services.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const challenges = (windowSeconds = 60) => new Challenges(new SealedBox(randomBytes(32), 'face-challenge'), services.shortLivedRecords, ['turn_left', 'look_up'], windowSeconds);

  test('a challenge comes from the allowed set, works once and only for its own sign-in', async () => {
    const c = challenges();
    const issued = await c.issue('interaction-1');
    assert.ok(['turn_left', 'look_up'].includes(issued.kind));
    assert.doesNotMatch(issued.token, /turn_left|look_up/, 'sealed, not readable');
    assert.deepEqual(await c.redeem(issued.token, 'interaction-2'), { ok: false, reason: 'challenge_invalid' });
    const redeemed = await c.redeem(issued.token, 'interaction-1');
    assert.equal(redeemed.ok && redeemed.challenge.kind, issued.kind);
    assert.deepEqual(await c.redeem(issued.token, 'interaction-1'), { ok: false, reason: 'challenge_reused' });
    assert.deepEqual(await c.redeem('v1.forged.token.x', 'interaction-1'), { ok: false, reason: 'challenge_invalid' });
  });

  test('a challenge older than its window is refused', async (t) => {
    const c = challenges(1);
    const issued = await c.issue('interaction-1');
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() + 1500 });
    assert.deepEqual(await c.redeem(issued.token, 'interaction-1'), { ok: false, reason: 'challenge_expired' });
  });

  test('frames seen before are a replay: byte-identical once, or most of them re-encoded', async () => {
    const guard = new ReplayGuard(services.shortLivedRecords, 60);
    const burst = [1, 2, 3, 4, 5].map((i) => ({ bytes: randomBytes(100), hash: Buffer.alloc(32, i * 50).toString('hex') }));
    assert.equal(await guard.seenBefore('acct', burst), false);
    assert.equal(await guard.seenBefore('acct', [burst[2]!, ...burst.slice(0, 2).map((f) => ({ ...f, bytes: randomBytes(100), hash: Buffer.alloc(32, 7).toString('hex') }))]), true, 'one identical frame');
    const reencoded = burst.map((f) => ({ bytes: randomBytes(100), hash: f.hash }));
    assert.equal(await guard.seenBefore('acct', reencoded), true, 'same pictures, new bytes');
    assert.equal(await guard.seenBefore('other-account', burst.map((f) => ({ ...f, bytes: randomBytes(100) }))), false, 'per account');
  });
});
