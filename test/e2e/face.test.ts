// The face step end to end: enrollment during sign-in, password → face sign-in, and every refusal
// (impostor, replay as is and re-encoded, another challenge's movements, capture times that do not
// fit the challenge, bad frames), with bursts built from real photos of one person.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import * as oidc from 'openid-client';
import { Browser, type Page } from '../support/browser.js';
import { badFrames, BurstBuilder, challengeOn, liveCaptureTimes, posedPhotos, type PosedPhoto } from '../support/face-images.js';
import { alertOf, authorize, tokensFrom } from '../support/interactive.js';
import { REENCODINGS } from '../support/reencode.js';
import { discoverRp, type RpClient } from '../support/rp.js';
import { insertLegacyFaceTemplate } from '../support/legacy-templates.js';
import { describeOnEachBackend } from '../support/suite.js';
import { PAD_OFF_FOR_LFW_BURSTS, sharedDataDir, sharedPipeline } from '../unit/face-support.js';
import { MODEL_FILES } from '../../src/biometrics/face/index.js';
import { calibrationBeside, scoreLlr } from '../../src/biometrics/fusion/index.js';
import { MODELS_DIR } from '../../src/paths.js';

// The audited LLR is the shipped calibration's line at the audited distance (rounded to 3 decimals).
const faceCalibration = calibrationBeside(join(MODELS_DIR, MODEL_FILES.recognition))!;
function assertLlrOf(details: Record<string, unknown>): void {
  assert.equal(typeof details.llr, 'number');
  const roundingSlack = Math.abs(faceCalibration.a) * 0.0005 + 0.001;
  assert.ok(Math.abs(Number(details.llr) - scoreLlr(faceCalibration, Number(details.score))) <= roundingSlack);
}

const PASSWORD = 'correct horse battery staple';
const FACE = 'urn:tessera:acr:face';

const configFile = join(mkdtempSync(join(tmpdir(), 'tessera-face-')), 'tessera.json');
writeFileSync(
  configFile,
  JSON.stringify({
    flows: { password: [{ step: 'password' }], face: { requirements: [{ step: 'password' }, { step: 'face' }], enrollAtLogin: true } },
    defaultFlow: 'password',
    acr: { 'urn:tessera:acr:password': 'password', [FACE]: 'face' },
  }),
);

// Photos of the enrolled person and of an impostor, with their estimated head poses.
let person: PosedPhoto[] = [];
let impostor: PosedPhoto[] = [];
let portrait: Buffer;
before(async () => {
  const pipeline = await sharedPipeline();
  const lfw = join(sharedDataDir(), 'faces-lfw-dev');
  [person, impostor] = [await posedPhotos(pipeline, join(lfw, 'Junichiro_Koizumi')), await posedPhotos(pipeline, join(lfw, 'Alvaro_Uribe'))];
  portrait = await readFile(join(lfw, 'Junichiro_Koizumi', 'Junichiro_Koizumi_0001.jpg'));
});

const challengeOf = (page: Page) => challengeOn(page.html);
const asFrames = (frames: Buffer[]) => frames.map((data) => ({ field: 'frame', data }));
/** Uploads frames to a face form as the capture page does: with capture times that fit a challenge just shown. */
const send = async (browser: Browser, page: Page, action: string, frames: Buffer[], headers?: Record<string, string>) =>
  browser.upload(page, action, asFrames(frames), await liveCaptureTimes(frames.length), headers);
const JSON_ACCEPT = { accept: 'application/json' };
const json = (page: Page) => JSON.parse(page.html) as { ok: boolean; status?: number; message?: string; next?: string };

let rp: RpClient;

describeOnEachBackend(
  'face step',
  (ctx) => {
    let bursts: BurstBuilder;
    let signedInWith: Buffer[] = [];
    const issuer = () => ctx().server.issuer;
    const templateRows = async (username: string) => {
      const account = await ctx().server.services.accounts.findByUsername(username);
      return ctx().server.services.db('face_templates').where({ account_id: account!.id });
    };

    async function startLogin(username: string) {
      const browser = new Browser(issuer());
      const { verifier, page: login } = await authorize(rp, browser, { acr_values: FACE });
      return { browser, verifier, page: await browser.submit(login, '/step/password', { username, password: PASSWORD }) };
    }

    before(() => {
      bursts = new BurstBuilder(person);
    });

    test('a face flow without a face enrolls it during sign-in; the ID token says pwd + face', async () => {
      const { browser, verifier, page } = await startLogin('kim');
      assert.equal(page.status, 200);
      assert.match(page.html, /Set up face sign-in/);
      assert.match(page.html, /<script src="\/static\/face-capture.js"/);
      assert.equal(challengeOf(page).length, 2, 'two movements');
      const done = await send(browser, page, '/enroll/face', bursts.take(challengeOf(page)).frames);
      assert.deepEqual((await tokensFrom(rp, done, verifier)).claims()!.amr, ['pwd', 'face']);
      const rows = await templateRows('kim');
      assert.ok(rows.length >= 3 && rows.length <= 5, `${rows.length} templates`);
      for (const row of rows) {
        assert.equal(row.format, 'cancelable-v1', 'a cancelable template, not the embedding');
        assert.match(String(row.template_sealed), /^v1\./, 'sealed at rest');
      }
    });

    test('password then face: the JSON upload API signs in, and the audit has score, threshold and decision', async () => {
      const { browser, verifier, page } = await startLogin('kim');
      assert.match(page.html, /Face check/);
      signedInWith = bursts.take(challengeOf(page)).frames;
      const answer = await send(browser, page, '/step/face', signedInWith, JSON_ACCEPT);
      assert.equal(answer.status, 200);
      const outcome = json(answer);
      assert.equal(outcome.ok, true);
      const done = await browser.request(outcome.next!);
      assert.deepEqual((await tokensFrom(rp, done, verifier)).claims()!.amr, ['pwd', 'face']);
      await ctx().server.services.audit.flush();
      const [event] = await ctx().server.services.audit.query({ type: 'login.succeeded' });
      const details = event!.details as Record<string, unknown>;
      assert.equal(details.step, 'face');
      assert.equal(details.decision, 'match');
      assert.deepEqual(details.challenge, challengeOf(page));
      assert.ok(Number(details.score) <= Number(details.threshold));
      assert.equal(details.threshold, 0.38);
      assertLlrOf(details);
      assert.doesNotMatch(JSON.stringify(event), /embedding|template_data|\[-?0\.\d+,/);
    });

    test('a replayed burst is refused', async () => {
      const { browser, page } = await startLogin('kim');
      const refused = await send(browser, page, '/step/face', signedInWith);
      assert.equal(refused.status, 401);
      assert.match(alertOf(refused)!, /sent before/);
      // The refusal page carries a fresh challenge for the next try; the old one is used up.
      assert.ok(challengeOf(refused)[0]);
      const reused = await send(browser, page, '/step/face', signedInWith, JSON_ACCEPT);
      assert.equal(reused.status, 409);
      assert.match(json(reused).message!, /already been used/);
    });

    test('a burst made for another challenge (the same movements in the other order) is refused', async () => {
      const { browser, page } = await startLogin('kim');
      const other = [...challengeOf(page)].reverse();
      const refused = await send(browser, page, '/step/face', bursts.take(other).frames, JSON_ACCEPT);
      assert.equal(refused.status, 401);
      assert.match(json(refused).message!, /could not see the movements we asked for, in that order/);
      await ctx().server.services.audit.flush();
      const [event] = await ctx().server.services.audit.query({ type: 'login.failed' });
      assert.deepEqual(event!.details, { step: 'face', reason: 'challenge_not_followed', challenge: challengeOf(page), performed: other });
    });

    test('capture times that predate the challenge, exceed its window or are missing are refused before any analysis', async () => {
      const { browser, page } = await startLogin('kim');
      // Refused before the frames are looked at, so the signed-in burst will do.
      const frames = asFrames(signedInWith);
      assert.equal(frames.length, 6);
      // Six frames claimed over 2.5 s, for a challenge issued a moment ago: taken before it existed.
      const early = await browser.upload(page, '/step/face', frames, { frameTimes: '0,500,1000,1500,2000,2500' });
      assert.equal(early.status, 401);
      assert.match(alertOf(early)!, /taken before this instruction was given/);
      // 25 s of capture, longer than this server's 20 s window (each refusal page has a new challenge).
      const slow = await browser.upload(early, '/step/face', frames, { frameTimes: '0,5000,10000,15000,20000,25000' });
      assert.equal(slow.status, 409);
      assert.match(alertOf(slow)!, /took too long/);
      const none = await browser.upload(slow, '/step/face', frames, {}, JSON_ACCEPT);
      assert.equal(none.status, 400);
      assert.match(json(none).message!, /capture time of each frame/);
      await ctx().server.services.audit.flush();
      const reasons = (await ctx().server.services.audit.query({ type: 'login.failed' })).slice(0, 3).map((e) => (e.details as { reason: string }).reason);
      assert.deepEqual(reasons, ['capture_times_missing', 'capture_too_slow', 'captured_before_challenge']);
    });

    test('a body that is neither a form nor multipart is refused with 415 before the step, on a page or as JSON, and audited', async () => {
      const { services } = ctx().server;
      const kim = await services.accounts.findByUsername('kim');
      const attempts = async () => (await services.audit.query({ type: 'login.failed', subject: kim!.id })).length;
      const before = await attempts();
      const { browser, page } = await startLogin('kim');
      const asText = await browser.send(page, '/step/face', { type: 'text/plain', data: 'frame=not-a-burst' });
      assert.equal(asText.status, 415);
      assert.match(asText.html, /<title>/);
      assert.match(asText.html, /expected a form submission with files \(multipart\/form-data\) or a plain form/);
      const asJson = await browser.send(page, '/step/face', { type: 'application/json', data: JSON.stringify({ frames: [] }) }, JSON_ACCEPT);
      assert.equal(asJson.status, 415);
      assert.deepEqual(json(asJson), { ok: false, status: 415, message: 'expected a form submission with files (multipart/form-data) or a plain form (application/x-www-form-urlencoded)' });
      await services.audit.flush();
      const events = await services.audit.query({ type: 'submission.refused', subject: kim!.id });
      assert.equal(events.length, 2);
      for (const event of events) {
        assert.equal(event.outcome, 'failure');
        assert.equal(event.clientId, rp.config.clientMetadata().client_id);
        assert.deepEqual(event.details, { step: 'face', status: 415, reason: 'wrong_content_type' });
      }
      // Nothing reached the step: no attempt was counted.
      assert.equal(await attempts(), before);
    });

    test('an impostor following the challenge is refused, with the score in the audit log', async () => {
      const { browser, page } = await startLogin('kim');
      const other = new BurstBuilder(impostor).take(challengeOf(page));
      const refused = await send(browser, page, '/step/face', other.frames);
      assert.equal(refused.status, 401);
      assert.match(alertOf(refused)!, /did not match/);
      await ctx().server.services.audit.flush();
      const [event] = await ctx().server.services.audit.query({ type: 'login.failed' });
      const details = event!.details as Record<string, unknown>;
      assert.equal(details.reason, 'no_match');
      assert.equal(details.decision, 'no_match');
      assert.ok(Number(details.score) > Number(details.threshold));
      assertLlrOf(details);
    });

    test('a recorded burst re-encoded (JPEG quality, resize, shift, brightness, all at once) is refused as a replay', async () => {
      // Its own account: the replays below would otherwise use up kim's bursts per minute.
      const { browser, page } = await startLogin('lee');
      // Replay memory is per account: lee's bursts may use kim's photos again.
      const recorded = new BurstBuilder(person).take(challengeOf(page)).frames;
      const enrolled = await send(browser, page, '/enroll/face', recorded, JSON_ACCEPT);
      assert.equal(json(enrolled).ok, true);
      for (const name of ['jpeg-q70', 'resize-1.25', 'shift-2px', 'brightness-0.9', 'resize-0.75+shift-2px+brightness-1.1+jpeg-q60']) {
        const login = await startLogin('lee');
        const copies = await Promise.all(recorded.map((f) => REENCODINGS[name]!.apply(f)));
        const refused = await send(login.browser, login.page, '/step/face', copies, JSON_ACCEPT);
        assert.equal(refused.status, 401, name);
        assert.match(json(refused).message!, /sent before/, name);
      }
    });

    test('bad frames get a clear error and an audit event, the face worker keeps answering, nothing is enrolled', async () => {
      const beas = new BurstBuilder(person);
      const good = beas.take(['turn_left', 'turn_right']).frames.slice(0, 5);
      const oversized = Buffer.concat([good[0]!, Buffer.alloc(2 * 1024 * 1024)]);
      const { browser, page } = await startLogin('bea');
      // Too few frames, through the JSON API.
      const few = await send(browser, page, '/enroll/face', good.slice(0, 2), JSON_ACCEPT);
      assert.deepEqual(json(few), { ok: false, status: 400, message: 'Send between 5 and 10 camera frames (form field "frame").' });
      const expected: Record<string, [number, RegExp, Buffer, string?]> = {};
      for (const [reason, bytes] of Object.entries(await badFrames(portrait))) {
        expected[reason] = [
          { not_an_image: 415, truncated_image: 400, too_many_pixels: 413 }[reason as string] ?? 422,
          { not_an_image: /Frame 6 is not a picture/, truncated_image: /Frame 6 is incomplete/, too_many_pixels: /Frame 6 has too many pixels/, no_face: /Frame 6 shows no face/, multiple_faces: /Frame 6 shows more than one face/, face_too_small: /Frame 6 shows your face too small/ }[reason]!,
          bytes,
        ];
      }
      expected.image_too_large = [413, /Frame 6 is larger than 2 MB/, oversized];
      expected.wrong_content_type = [415, /Frame 6 is sent as text\/plain/, good[1]!, 'text/plain'];
      let current = page;
      for (const [reason, [status, message, bytes, type]] of Object.entries(expected)) {
        // The bad frame comes last: the five good ones before it are analysed, so each request
        // also shows that the face worker survived the bad frame of the one before. Each refusal
        // page carries the next challenge.
        const files = [...asFrames(good), { field: 'frame', data: bytes, type }];
        const refused = await browser.upload(current, '/enroll/face', files, await liveCaptureTimes(files.length));
        assert.equal(refused.status, status, reason);
        assert.match(alertOf(refused)!, message, reason);
        await ctx().server.services.audit.flush();
        const [event] = await ctx().server.services.audit.query({ type: 'credential.enrolled' });
        assert.equal(event!.outcome, 'failure');
        assert.equal((event!.details as { reason: string }).reason, reason);
        current = refused;
      }
      assert.equal((await templateRows('bea')).length, 0);
      // After the last bad frame the worker still analyses a whole burst.
      const enrolled = await send(browser, current, '/enroll/face', beas.take(challengeOf(current)).frames, JSON_ACCEPT);
      assert.equal(json(enrolled).ok, true, json(enrolled).message);
      // Past ten bursts a minute the account is asked to wait, before any analysis.
      const login = await startLogin('bea');
      let junk = login.page;
      for (let i = 0; i < 3 && junk.status !== 429; i++) junk = await login.browser.upload(login.page, '/step/face', asFrames([Buffer.from('junk'), ...good]), {}, JSON_ACCEPT);
      assert.equal(junk.status, 429);
      assert.match(json(junk).message!, /Too many captures/);
      assert.ok(Number(junk.headers.get('retry-after')) > 0);
    });

    test('templates stored as embeddings (before cancelable templates) are replaced at the next successful sign-in', async () => {
      const { services } = ctx().server;
      // A new account: the other tests' bursts of these photos are in kim's replay memory.
      const kim = await services.accounts.create({ username: 'max', password: PASSWORD });
      const pipeline = await sharedPipeline();
      const frontal = [...person].sort((a, b) => Math.abs(a.pose.yaw) - Math.abs(b.pose.yaw)).slice(0, 3);
            for (const photo of frontal) await insertLegacyFaceTemplate(services.db, services.masterKey.key, kim!.id, (await pipeline.analyse(photo.bytes)).embedding);
      const { browser, page } = await startLogin('max');
      const answer = await send(browser, page, '/step/face', new BurstBuilder(person).take(challengeOf(page)).frames, JSON_ACCEPT);
      assert.equal(json(answer).ok, true);
      assert.deepEqual((await templateRows('max')).map((r) => r.format), ['cancelable-v1', 'cancelable-v1', 'cancelable-v1']);
      await services.audit.flush();
      const [migrated] = await services.audit.query({ subject: kim!.id, type: 'credential.migrated' });
      assert.deepEqual(migrated!.details, { step: 'face', templates: 3, format: 'cancelable-v1' });
    });

    test("removing a user's face enrollment deletes the templates", async () => {
      const { services } = ctx().server;
      const admin = await services.clients.create({ name: 'Admin', grantTypes: ['client_credentials'], scope: 'admin:read admin:write' });
      const adminRp = await discoverRp(issuer(), admin.client.clientId, { secret: admin.secret });
      const token = (await oidc.clientCredentialsGrant(adminRp.config, { resource: `${issuer()}/admin/v1`, scope: 'admin:write' })).access_token;
      const kim = await services.accounts.findByUsername('kim');
      const res = await fetch(`${issuer()}/admin/v1/users/${kim!.id}/enrollments/face`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 204);
      assert.equal((await templateRows('kim')).length, 0);
    });
  },
  {
    env: { TESSERA_CONFIG: configFile, TESSERA_FACE_CHALLENGES: 'turn_left,turn_right', TESSERA_FACE_CHALLENGE_SECONDS: '20', ...PAD_OFF_FOR_LFW_BURSTS },
    async setup({ server }) {
      for (const username of ['kim', 'bea', 'lee']) await server.services.accounts.create({ username, password: PASSWORD });
      const c = await server.services.clients.create({ name: 'Face app', redirectUris: ['http://127.0.0.1:9/callback'], firstParty: true });
      rp = await discoverRp(server.issuer, c.client.clientId, { secret: c.secret });
    },
  },
);
