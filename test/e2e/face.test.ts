// The face step end to end: enrollment during sign-in, password → face sign-in, and every refusal
// (impostor, replay, wrong movement, bad frames), with bursts built from real photos of one person.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import * as oidc from 'openid-client';
import type { ChallengeKind } from '../../src/steps/face/challenge.js';
import { Browser, type Page } from '../support/browser.js';
import { badFrames, BurstBuilder, posedPhotos, type PosedPhoto } from '../support/face-images.js';
import { alertOf, authorize, tokensFrom } from '../support/interactive.js';
import { discoverRp, type RpClient } from '../support/rp.js';
import { insertLegacyFaceTemplate } from '../support/legacy-templates.js';
import { describeOnEachBackend } from '../support/suite.js';
import { PAD_OFF_FOR_LFW_BURSTS, sharedDataDir, sharedPipeline } from '../unit/face-support.js';

const PASSWORD = 'correct horse battery staple';
const FACE = 'urn:tessera:acr:face';
const OPPOSITE: Record<string, ChallengeKind> = { turn_left: 'turn_right', turn_right: 'turn_left' };

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

const challengeOf = (page: Page) => /data-challenge="([a-z_]+)"/.exec(page.html)?.[1] as ChallengeKind;
const asFrames = (frames: Buffer[]) => frames.map((data) => ({ field: 'frame', data }));
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
      const burst = bursts.take(challengeOf(page));
      const done = await browser.upload(page, '/enroll/face', asFrames(burst.frames));
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
      const answer = await browser.upload(page, '/step/face', asFrames(signedInWith), {}, JSON_ACCEPT);
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
      assert.ok(Number(details.score) <= Number(details.threshold));
      assert.equal(details.threshold, 0.38);
      assert.doesNotMatch(JSON.stringify(event), /embedding|template_data|\[-?0\.\d+,/);
    });

    test('a replayed burst is refused', async () => {
      const { browser, page } = await startLogin('kim');
      const refused = await browser.upload(page, '/step/face', asFrames(signedInWith));
      assert.equal(refused.status, 401);
      assert.match(alertOf(refused)!, /sent before/);
      // The refusal page carries a fresh challenge for the next try; the old one is used up.
      assert.ok(challengeOf(refused));
      const reused = await browser.upload(page, '/step/face', asFrames(signedInWith), {}, JSON_ACCEPT);
      assert.equal(reused.status, 409);
      assert.match(json(reused).message!, /already been used/);
    });

    test('a movement other than the one asked for is refused', async () => {
      const { browser, page } = await startLogin('kim');
      const wrong = bursts.take(OPPOSITE[challengeOf(page)]!);
      const refused = await browser.upload(page, '/step/face', asFrames(wrong.frames), {}, JSON_ACCEPT);
      assert.equal(refused.status, 401);
      assert.match(json(refused).message!, /could not see the movement/);
    });

    test('an impostor following the challenge is refused, with the score in the audit log', async () => {
      const { browser, page } = await startLogin('kim');
      const other = new BurstBuilder(impostor).take(challengeOf(page));
      const refused = await browser.upload(page, '/step/face', asFrames(other.frames));
      assert.equal(refused.status, 401);
      assert.match(alertOf(refused)!, /did not match/);
      await ctx().server.services.audit.flush();
      const [event] = await ctx().server.services.audit.query({ type: 'login.failed' });
      const details = event!.details as Record<string, unknown>;
      assert.equal(details.reason, 'no_match');
      assert.equal(details.decision, 'no_match');
      assert.ok(Number(details.score) > Number(details.threshold));
    });

    test('bad frames get a clear error, nothing is enrolled and the server keeps serving', async () => {
      const good = bursts.take('turn_left').frames.slice(1);
      const expected: Record<string, [number, RegExp]> = {
        not_an_image: [415, /Frame 1 is not a picture/],
        truncated_image: [400, /Frame 1 is incomplete/],
        too_many_pixels: [413, /Frame 1 has too many pixels/],
        no_face: [422, /Frame 1 shows no face/],
        multiple_faces: [422, /Frame 1 shows more than one face/],
        face_too_small: [422, /Frame 1 shows your face too small/],
      };
      const { browser, page } = await startLogin('bea');
      let current = page;
      for (const [reason, bytes] of Object.entries(await badFrames(portrait))) {
        const [status, message] = expected[reason]!;
        const refused = await browser.upload(current, '/enroll/face', asFrames([bytes, ...good]));
        assert.equal(refused.status, status, reason);
        assert.match(alertOf(refused)!, message);
        current = refused;
      }
      // Too few frames, and the same through the JSON API.
      const few = await browser.upload(current, '/enroll/face', asFrames(good.slice(0, 2)), {}, JSON_ACCEPT);
      assert.deepEqual(json(few), { ok: false, status: 400, message: 'Send between 5 and 10 camera frames (form field "frame").' });
      assert.equal((await templateRows('bea')).length, 0);
      assert.equal((await fetch(`${issuer()}/healthz`)).status, 200);
      // Past ten bursts a minute the account is asked to wait, before any analysis.
      let last = few;
      for (let i = 0; i < 5 && last.status !== 429; i++) last = await browser.upload(current, '/enroll/face', asFrames([Buffer.from('junk'), ...good]), {}, JSON_ACCEPT);
      assert.equal(last.status, 429);
      assert.match(json(last).message!, /Too many captures/);
      assert.ok(Number(last.headers.get('retry-after')) > 0);
    });

    test('templates stored as embeddings (before cancelable templates) are replaced at the next successful sign-in', async () => {
      const { services } = ctx().server;
      const kim = await services.accounts.findByUsername('kim');
      const pipeline = await sharedPipeline();
      const frontal = [...person].sort((a, b) => Math.abs(a.pose.yaw) - Math.abs(b.pose.yaw)).slice(0, 3);
      await services.db('face_templates').where({ account_id: kim!.id }).delete();
      for (const photo of frontal) await insertLegacyFaceTemplate(services.db, services.masterKey.key, kim!.id, (await pipeline.analyse(photo.bytes)).embedding);
      const { browser, page } = await startLogin('kim');
      const answer = await browser.upload(page, '/step/face', asFrames(bursts.take(challengeOf(page)).frames), {}, JSON_ACCEPT);
      assert.equal(json(answer).ok, true);
      assert.deepEqual((await templateRows('kim')).map((r) => r.format), ['cancelable-v1', 'cancelable-v1', 'cancelable-v1']);
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
    env: { TESSERA_CONFIG: configFile, TESSERA_FACE_CHALLENGES: 'turn_left,turn_right', ...PAD_OFF_FOR_LFW_BURSTS },
    async setup({ server }) {
      for (const username of ['kim', 'bea']) await server.services.accounts.create({ username, password: PASSWORD });
      const c = await server.services.clients.create({ name: 'Face app', redirectUris: ['http://127.0.0.1:9/callback'], firstParty: true });
      rp = await discoverRp(server.issuer, c.client.clientId, { secret: c.secret });
    },
  },
);
