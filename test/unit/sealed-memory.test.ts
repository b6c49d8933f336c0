// A replay memory that cannot be opened (sealed under another master key, or damaged) counts as
// empty with a warning instead of failing every face sign-in of the account until it expires.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../config/load.js';
import { EMBEDDING_SIZE } from '../../src/biometrics/face/index.js';
import { SealedBox } from '../../src/security/sealed-box.js';
import { SealedMemory } from '../../src/security/sealed-memory.js';
import { openServices, type Services } from '../../src/services.js';
import { SHAPE_SIZE } from '../../src/steps/face/face-shape.js';
import { ReplayGuard, type FrameTrace } from '../../src/steps/face/replay-guard.js';

type Frame = FrameTrace & { bytes: Uint8Array };

let dir: string;
let services: Services;
const lines: string[] = [];
const log = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
const guardWith = (masterKey: Buffer) => new ReplayGuard(services.shortLivedRecords, new SealedMemory(new SealedBox(masterKey, 'face-replay'), log), 60);

// Frames of one burst: distinct random traces (far from each other and from any other burst's).
function burst(n = 5): Frame[] {
  return Array.from({ length: n }, () => ({
    shape: Array.from({ length: SHAPE_SIZE }, () => Math.random()),
    embedding: Float32Array.from({ length: EMBEDDING_SIZE }, () => Math.random() - 0.5),
    bytes: randomBytes(64),
  }));
}
// The same frames re-encoded: new bytes, the same geometry and embedding.
const reencoded = (frames: Frame[]): Frame[] => frames.map((f) => ({ ...f, bytes: randomBytes(64) }));

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-sealed-memory-'));
  services = await openServices(loadConfig({ DATA_DIR: dir, TESSERA_MASTER_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'silent' }), pino({ level: 'silent' }));
});
after(async () => {
  await services.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  lines.length = 0;
});

describe('face replay memory', () => {
  test('sealed under master key A, read under key B: counts as empty with a warning, then is rewritten under B', async () => {
    const [a, b] = [guardWith(randomBytes(32)), guardWith(randomBytes(32))];
    const first = burst();
    assert.equal(await a.seenBefore('acct-a', first), false);
    assert.equal(await a.seenBefore('acct-a', reencoded(first)), true, 'key A recognises its own memory');

    const sealedUnderA = String((await services.shortLivedRecords.find('FaceFrames', 'acct-a'))!.frames);
    const second = burst();
    assert.equal(await b.seenBefore('acct-a', second), false, 'no throw; nothing remembered');
    assert.equal(lines.length, 1);
    const warning = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(warning.level, 40);
    assert.equal(warning.memory, 'face-replay');
    assert.equal(warning.subject, 'acct-a');
    assert.match(String(warning.msg), /cannot be opened; it counts as empty/);
    // Nothing of the sealed value in the log.
    assert.ok(!lines[0]!.includes('v1.'), lines[0]);
    assert.ok(!lines[0]!.includes(sealedUnderA.split('.')[2]!.slice(0, 16)));

    // Rewritten under key B: its copies are recognised again, with no further warning.
    assert.equal(await b.seenBefore('acct-a', reencoded(second)), true);
    assert.equal(lines.length, 1);
  });

  test('a damaged row counts as empty too, and only for its account', async () => {
    const guard = guardWith(randomBytes(32));
    const mine = burst();
    const theirs = burst();
    assert.equal(await guard.seenBefore('acct-damaged', mine), false);
    assert.equal(await guard.seenBefore('acct-other', theirs), false);
    await services.shortLivedRecords.upsert('FaceFrames', 'acct-damaged', { frames: 'v1.not.sealed.at-all' }, 60);
    assert.equal(await guard.seenBefore('acct-damaged', burst()), false);
    assert.equal(lines.length, 1);
    assert.equal(await guard.seenBefore('acct-other', reencoded(theirs)), true, "another account's memory is untouched");
  });
});
