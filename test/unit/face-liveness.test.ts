// The liveness rules, capture times and challenges of the face step, on their own.
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
import { BURST_QUALITY, burstFrames, MAX_FRAMES, MIN_FRAMES } from '../../src/steps/face/burst.js';
import { CHALLENGE_KINDS, Challenges, type ChallengeKind } from '../../src/steps/face/challenge.js';
import { headPose } from '../../src/steps/face/head-pose.js';
import { checkCaptureTimes, MAX_FRAME_GAP_MS } from '../../src/steps/face/capture-times.js';
import { checkLiveness, DEFAULT_LIVENESS, performedMoves, type BurstFrame } from '../../src/steps/face/liveness.js';
import { analyseFrame, BurstBuilder, posedPhotos } from '../support/face-images.js';
import { identityImages, sharedDataDir, sharedPipeline } from './face-support.js';

// A frame with a given pose; embeddings on the unit circle so identity drift is controlled.
const frame = (yaw: number, pitch: number, hashByte: number, angle = 0): BurstFrame => {
  const embedding = new Float32Array(128);
  embedding[0] = Math.cos(angle);
  embedding[1] = Math.sin(angle);
  return { embedding, pose: { yaw, pitch }, hash: Buffer.alloc(32, hashByte).toString('hex'), shape: [] };
};
const turnLeft = [frame(0.02, 0.55, 0x00), frame(0.1, 0.55, 0x0f), frame(0.18, 0.55, 0xf0), frame(0.26, 0.55, 0x33), frame(0.33, 0.55, 0xcc)];
// Left, back to the centre, then up.
const leftThenUp = [frame(0.01, 0.55, 0x00), frame(0.12, 0.55, 0x0f), frame(0.3, 0.56, 0xf0), frame(0.03, 0.55, 0x33), frame(0.02, 0.5, 0xcc), frame(0.03, 0.42, 0x55)];
const pairs = CHALLENGE_KINDS.flatMap((a) => CHALLENGE_KINDS.filter((b) => b !== a).map((b) => [a, b] as const));

describe('liveness rules', () => {
  test('a head turning to the asked side passes; the most frontal frame is the probe', () => {
    assert.deepEqual(checkLiveness(turnLeft, ['turn_left']), { ok: true, probe: 0, performed: ['turn_left'] });
  });

  test('the same burst does not answer the opposite or a vertical challenge, nor a sequence', () => {
    for (const moves of [['turn_right'], ['look_up'], ['look_down'], ['turn_left', 'turn_right']] as const) {
      const result = checkLiveness(turnLeft, moves);
      assert.equal(result.ok, false, moves.join());
      assert.equal(!result.ok && result.reason, 'challenge_not_followed');
    }
  });

  test('a sequence passes only in its own order: left→up fails up→left, right→down and every other pair', () => {
    assert.deepEqual(performedMoves(leftThenUp), ['turn_left', 'look_up']);
    for (const moves of pairs) assert.equal(checkLiveness(leftThenUp, moves).ok, moves[0] === 'turn_left' && moves[1] === 'look_up', moves.join('→'));
    assert.equal(checkLiveness(leftThenUp, ['turn_left']).ok, false, 'one movement too many');
  });

  test('nodding is read from the nose between eyes and mouth', () => {
    const nod = [0.6, 0.56, 0.52, 0.49, 0.45].map((pitch, i) => frame(0.01 * i, pitch, i * 40));
    assert.equal(checkLiveness(nod, ['look_up']).ok, true);
    assert.equal(checkLiveness(nod, ['look_down']).ok, false);
  });

  test('repeated frames, a start facing away and a change of person are refused', () => {
    const still = [turnLeft[0]!, turnLeft[0]!, ...turnLeft.slice(1)];
    assert.deepEqual(checkLiveness(still, ['turn_left']), { ok: false, reason: 'static_frames' });
    const away = [frame(0.3, 0.55, 1), ...turnLeft.slice(1)];
    assert.equal((checkLiveness(away, ['turn_left']) as { reason: string }).reason, 'not_facing_camera');
    const swapped = [...turnLeft.slice(0, 4), frame(0.33, 0.55, 0x5a, Math.PI / 3)];
    assert.equal((checkLiveness(swapped, ['turn_left']) as { reason: string }).reason, 'identity_changed');
  });
});

test('the capture page sends 5, 6 or 9 frames for one, two or three movements: always within the step\'s limits', () => {
  assert.deepEqual([1, 2, 3].map(burstFrames), [5, 6, 9]);
  for (const moves of [1, 2, 3]) assert.ok(burstFrames(moves) >= MIN_FRAMES && burstFrames(moves) <= MAX_FRAMES);
});

describe('capture times', () => {
  const issued = (agoMs: number) => ({ nonce: 'n', moves: ['turn_left', 'look_up'] as const, issuedAt: Date.now() - agoMs });
  const check = (times: string | undefined, agoMs = 10_000, frames = 4) => checkCaptureTimes(times, frames, issued(agoMs), 120);

  test('increasing times a camera could deliver, within the challenge\'s age, pass', () => {
    assert.deepEqual(check('400,900,1400,1900'), { ok: true, times: [400, 900, 1400, 1900] });
  });

  test('missing, malformed or miscounted times are a bad request', () => {
    for (const times of [undefined, '', '1,2,3', '0,500,1000,x', '0,500,1000,1500,2000', '0;500;1000;1500']) assert.deepEqual(check(times), { ok: false, reason: 'capture_times_missing' }, String(times));
  });

  test('frames out of order, too close together or too far apart are not a live capture', () => {
    for (const times of ['0,900,500,1400', '0,10,20,30', '0,500,1000,1000', `0,500,1000,${1000 + MAX_FRAME_GAP_MS + 1}`]) assert.deepEqual(check(times), { ok: false, reason: 'capture_times_implausible' }, times);
  });

  test('times that predate the challenge or exceed its window are refused', () => {
    assert.deepEqual(check('-300,200,700,1200'), { ok: false, reason: 'captured_before_challenge' });
    // Claims a 1.9 s capture for a challenge issued 1 s ago.
    assert.deepEqual(check('400,900,1400,1900', 1000), { ok: false, reason: 'captured_before_challenge' });
    const spread = Array.from({ length: 30 }, (_, i) => i * 4500).join(',');
    assert.deepEqual(checkCaptureTimes(spread, 30, issued(200_000), 120), { ok: false, reason: 'capture_too_slow' });
  });
});

describe('head pose and movements on real photos', () => {
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

  test('bursts of real photos chosen by pose answer their own movements in their order and no others', async () => {
    const pipeline = await sharedPipeline();
    const photos = await posedPhotos(pipeline, join(sharedDataDir(), 'faces-lfw-dev', 'Jennifer_Capriati'));
    // No replay check here: each burst may use any of the photos.
    const framesOf = async (moves: readonly ChallengeKind[]) => Promise.all(new BurstBuilder(photos).take(moves).frames.map((bytes) => analyseFrame(pipeline, bytes)));
    for (const kind of CHALLENGE_KINDS) {
      const frames = await framesOf([kind]);
      for (const asked of CHALLENGE_KINDS) assert.equal(checkLiveness(frames, [asked]).ok, asked === kind, `${kind} burst, ${asked} asked`);
    }
    const leftUp = await framesOf(['turn_left', 'look_up']);
    for (const moves of pairs) assert.equal(checkLiveness(leftUp, moves).ok, moves[0] === 'turn_left' && moves[1] === 'look_up', `left→up burst, ${moves.join('→')} asked`);
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
  const challenges = (windowSeconds = 60, length = 2) => new Challenges(new SealedBox(randomBytes(32), 'face-challenge'), services.shortLivedRecords, ['turn_left', 'look_up', 'look_down'], length, windowSeconds);

  test('a challenge is a sequence from the allowed set without repeats, works once and only for its own sign-in', async () => {
    const c = challenges(60, 3);
    for (let i = 0; i < 20; i++) {
      const { moves } = await c.issue(`interaction-${i}`);
      assert.equal(moves.length, 3);
      assert.ok(moves.every((m, k) => ['turn_left', 'look_up', 'look_down'].includes(m) && m !== moves[k - 1]), moves.join());
    }
    const issued = await c.issue('interaction-1');
    assert.doesNotMatch(issued.token, /turn_left|look_up|look_down/, 'sealed, not readable');
    assert.deepEqual(await c.redeem(issued.token, 'interaction-2'), { ok: false, reason: 'challenge_invalid' });
    const redeemed = await c.redeem(issued.token, 'interaction-1');
    assert.deepEqual(redeemed.ok && redeemed.challenge.moves, issued.moves);
    assert.ok(redeemed.ok && Math.abs(redeemed.challenge.issuedAt - Date.now()) < 5000, 'carries its issue time');
    assert.deepEqual(await c.redeem(issued.token, 'interaction-1'), { ok: false, reason: 'challenge_reused' });
    assert.deepEqual(await c.redeem('v1.forged.token.x', 'interaction-1'), { ok: false, reason: 'challenge_invalid' });
  });

  test('a challenge older than its window is refused', async (t) => {
    const c = challenges(1, 1);
    const issued = await c.issue('interaction-1');
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() + 1500 });
    assert.deepEqual(await c.redeem(issued.token, 'interaction-1'), { ok: false, reason: 'challenge_expired' });
  });
});
