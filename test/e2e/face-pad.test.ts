// Presentation-attack detection in the face step, at the default PAD threshold, with real NUAA
// webcam frames: printed photos held to the camera are refused at enrollment and at sign-in
// (reason presentation_attack, counted towards the lockout, PAD score and threshold audited),
// while live frames of the same kind get past PAD.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_PAD_THRESHOLD } from '../../src/biometrics/face/index.js';
import { FaceTemplates } from '../../src/steps/face/face-templates.js';
import { Browser } from '../support/browser.js';
import { liveCaptureTimes } from '../support/face-images.js';
import { authorize } from '../support/interactive.js';
import { discoverRp, type RpClient } from '../support/rp.js';
import { describeOnEachBackend } from '../support/suite.js';
import { nuaaBurst, sharedPipeline } from '../unit/face-support.js';

const PASSWORD = 'correct horse battery staple';
const FACE = 'urn:tessera:acr:face';
const MAX_FAILURES = 2;

const configFile = join(mkdtempSync(join(tmpdir(), 'tessera-face-pad-')), 'tessera.json');
writeFileSync(configFile, JSON.stringify({
  flows: { password: [{ step: 'password' }], face: { requirements: [{ step: 'password' }, { step: 'face' }], enrollAtLogin: true } },
  defaultFlow: 'password',
  acr: { 'urn:tessera:acr:password': 'password', [FACE]: 'face' },
  // A small lockout limit shows that PAD refusals count, without sending many bursts.
  login: { maxFailuresPerAccount: MAX_FAILURES },
}));

const asFrames = (frames: Buffer[]) => frames.map((data) => ({ field: 'frame', data }));
const JSON_ACCEPT = { accept: 'application/json' };
let rp: RpClient;

describeOnEachBackend(
  'face presentation-attack detection',
  (ctx) => {
    const issuer = () => ctx().server.issuer;
    async function startLogin(username: string) {
      const browser = new Browser(issuer());
      const { page: login } = await authorize(rp, browser, { acr_values: FACE });
      return { browser, page: await browser.submit(login, '/step/password', { username, password: PASSWORD }) };
    }
    async function lastEvent(type: string) {
      await ctx().server.services.audit.flush();
      const [event] = await ctx().server.services.audit.query({ type });
      return event!.details as Record<string, unknown>;
    }

    test('enrollment with a printed photo of the person is refused as a presentation attack; nothing is stored', async () => {
      const { browser, page } = await startLogin('pia');
      assert.match(page.html, /Set up face sign-in/);
      const print = await nuaaBurst(await sharedPipeline(), 'print', '0006', '01');
      const refused = await browser.upload(page, '/enroll/face', asFrames(print), await liveCaptureTimes(print.length), JSON_ACCEPT);
      assert.equal(refused.status, 401);
      assert.match((JSON.parse(refused.html) as { message: string }).message, /does not look like a live face/);
      const details = await lastEvent('credential.enrolled');
      assert.equal(details.reason, 'presentation_attack');
      assert.equal(details.pad_threshold, DEFAULT_PAD_THRESHOLD);
      assert.ok(Number(details.pad_score) < DEFAULT_PAD_THRESHOLD, `pad_score ${details.pad_score}`);
      const pia = await ctx().server.services.accounts.findByUsername('pia');
      assert.equal(await FaceTemplates.forMasterKey(ctx().server.services.db, ctx().server.services.masterKey.key).exists(pia!.id), false);
    });

    test('sign-in with a printed photo of the enrolled person is refused, counts towards the lockout, and is audited with the PAD score', async () => {
      const print = await nuaaBurst(await sharedPipeline(), 'print', '0004', '02');
      for (let attempt = 1; attempt <= MAX_FAILURES; attempt++) {
        const { browser, page } = await startLogin('paul');
        assert.match(page.html, /Face check/);
        // The same frames each time: PAD comes before the replay check, which never sees them.
        const refused = await browser.upload(page, '/step/face', asFrames(print), await liveCaptureTimes(print.length), JSON_ACCEPT);
        assert.equal(refused.status, 401, `attempt ${attempt}`);
        const details = await lastEvent('login.failed');
        assert.equal(details.reason, 'presentation_attack');
        assert.equal(details.pad_threshold, DEFAULT_PAD_THRESHOLD);
        assert.equal(details.pad_frames_below_threshold, 5);
      }
      const { browser, page } = await startLogin('paul');
      const locked = await browser.upload(page, '/step/face', asFrames(print), await liveCaptureTimes(print.length), JSON_ACCEPT);
      assert.equal(locked.status, 429);
      assert.match((JSON.parse(locked.html) as { message: string }).message, /Too many failed face checks/);
    });

    test('live frames get past PAD: a still live burst is refused only for the missing movement', async () => {
      const { browser, page } = await startLogin('bo');
      const live = await nuaaBurst(await sharedPipeline(), 'bona-fide', '0006', '02');
      const refused = await browser.upload(page, '/enroll/face', asFrames(live), await liveCaptureTimes(live.length), JSON_ACCEPT);
      assert.equal(refused.status, 401);
      const details = await lastEvent('credential.enrolled');
      assert.notEqual(details.reason, 'presentation_attack');
      assert.match(String(details.reason), /challenge_not_followed|static_frames/);
    });
  },
  {
    // PAD at its default threshold: no TESSERA_FACE_PAD_THRESHOLD here.
    env: { TESSERA_CONFIG: configFile, TESSERA_FACE_CHALLENGES: 'turn_left,turn_right' },
    async setup({ server }) {
      for (const username of ['pia', 'paul', 'bo']) await server.services.accounts.create({ username, password: PASSWORD });
      // paul's templates: embeddings of live NUAA frames of person 0004 from another session.
      const pipeline = await sharedPipeline();
      const enrolled = await Promise.all((await nuaaBurst(pipeline, 'bona-fide', '0004', '01', 3)).map(async (f) => (await pipeline.analyse(f)).embedding));
      const paul = await server.services.accounts.findByUsername('paul');
      await FaceTemplates.forMasterKey(server.services.db, server.services.masterKey.key).replace(paul!.id, enrolled);
      const c = await server.services.clients.create({ name: 'Face app', redirectUris: ['http://127.0.0.1:9/callback'], firstParty: true });
      rp = await discoverRp(server.issuer, c.client.clientId, { secret: c.secret });
    },
  },
);
