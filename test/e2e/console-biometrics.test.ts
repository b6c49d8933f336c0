// Face and brain-signal (EEG) set-up in the account console, through the console's generic factor
// pages: a real-photo head-turn burst uploaded as JSON, a recording delivered by the reference
// device client with the page's one-time code, and the EDF upload fallback; then sign-ins with each.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { Browser, type Page } from '../support/browser.js';
import { cutEdf, eegFile } from '../support/eeg.js';
import { BurstBuilder, challengeOn, liveCaptureTimes, posedPhotos, type PosedPhoto } from '../support/face-images.js';
import { alertOf, authorize, captureCodeOn, tokensFrom } from '../support/interactive.js';
import { discoverRp, type RpClient } from '../support/rp.js';
import { runCli } from '../support/spawn.js';
import { describeOnEachBackend, type SuiteContext } from '../support/suite.js';
import { PAD_OFF_FOR_LFW_BURSTS, sharedDataDir, sharedPipeline } from '../unit/face-support.js';

const PASSWORD = 'correct horse battery staple';
const FACE = 'urn:tessera:acr:face';
const EEG = 'urn:tessera:acr:eeg';
const dir = mkdtempSync(join(tmpdir(), 'tessera-console-bio-'));
const configFile = join(dir, 'tessera.json');
writeFileSync(
  configFile,
  JSON.stringify({
    flows: { password: [{ step: 'password' }], face: [{ step: 'password' }, { step: 'face' }], eeg: [{ step: 'password' }, { step: 'neural' }] },
    defaultFlow: 'password',
    acr: { 'urn:tessera:acr:password': 'password', [FACE]: 'face', [EEG]: 'eeg' },
  }),
);

// Subject 21 was held out of the v1 neural model's training (v2 was trained on all 26 people).
const rest = eegFile(21, 1);
const enrollmentFile = join(dir, 'rest-60s.edf');
writeFileSync(enrollmentFile, cutEdf(rest, 0, 60));

let bursts: BurstBuilder;
let photos: PosedPhoto[];
let rp: RpClient;
before(async () => {
  const pipeline = await sharedPipeline();
  photos = await posedPhotos(pipeline, join(sharedDataDir(), 'faces-lfw-dev', 'Junichiro_Koizumi'));
  bursts = new BurstBuilder(photos);
});

const JSON_ACCEPT = { accept: 'application/json' };
const challengeOf = (page: Page) => challengeOn(page.html);
const asFrames = (frames: Buffer[]) => frames.map((data) => ({ field: 'frame', data }));
const statusUrlOn = (page: Page) => /data-status-url="([^"]+)"/.exec(page.html)?.[1];
const noticeOf = (page: Page) => /<p class="notice"[^>]*>([^<]*)</.exec(page.html)?.[1];
const json = (page: Page) => JSON.parse(page.html) as { ok: boolean; status?: number; message?: string; next?: string };
const pathOf = (page: Page) => new URL(page.url).pathname;

/** Signs in to the console with the password and opens the set-up page of `step`. */
async function openSetup(issuer: string, username: string, step: string) {
  const browser = new Browser(issuer);
  const login = await browser.request('/account/factors');
  const list = await browser.submit(login, '/step/password', { username, password: PASSWORD });
  assert.match(list.html, /Sign-in methods/);
  const page = await browser.submit(list, `/account/factors/${step}/enroll`);
  assert.match(pathOf(page), new RegExp(`^/account/factors/${step}/setup/[A-Za-z0-9_-]{32}$`));
  return { browser, page };
}

async function signInWith(issuer: string, acr: string, username: string) {
  const browser = new Browser(issuer);
  const { verifier, page: login } = await authorize(rp, browser, { acr_values: acr });
  return { browser, verifier, page: await browser.submit(login, '/step/password', { username, password: PASSWORD }) };
}

async function accountId(ctx: SuiteContext, username: string) {
  return (await ctx.server.services.accounts.findByUsername(username))!.id;
}

describeOnEachBackend(
  'account console: face and brain-signal set-up',
  (ctx) => {
    const issuer = () => ctx().server.issuer;
    const db = () => ctx().server.services.db;
    const faceRows = async (username: string) => db()('face_templates').where({ account_id: await accountId(ctx(), username) });
    const neuralRow = async (username: string) => db()('neural_templates').where({ account_id: await accountId(ctx(), username) }).first();

    test('face: set up with a JSON burst upload, used to sign in, then removed', async () => {
      const { browser, page } = await openSetup(issuer(), 'kim', 'face');
      const path = pathOf(page);
      assert.match(page.html, /Set up face sign-in/);
      assert.match(page.html, /<script src="\/static\/face-capture.js"/);
      assert.ok(page.html.includes(`data-page="${path}"`), 'the capture script reloads this page for a new instruction');
      assert.ok(page.html.includes(`action="${path}/cancel"`));
      assert.doesNotMatch(page.html, /\/interaction\//);
      const frames = bursts.take(challengeOf(page)).frames;
      const answer = await browser.upload(page, path, asFrames(frames), await liveCaptureTimes(frames.length), JSON_ACCEPT);
      assert.deepEqual(json(answer), { ok: true, next: '/account/factors?done=enrolled' });
      const rows = await faceRows('kim');
      assert.ok(rows.length >= 3 && rows.length <= 5, `${rows.length} templates`);
      assert.equal(noticeOf(await browser.request(json(answer).next!)), 'The sign-in method is set up.');

      const login = await signInWith(issuer(), FACE, 'kim');
      assert.match(login.page.html, /Face check/);
      const signIn = bursts.take(challengeOf(login.page)).frames;
      const verified = await login.browser.upload(login.page, '/step/face', asFrames(signIn), await liveCaptureTimes(signIn.length), JSON_ACCEPT);
      const done = await login.browser.request(json(verified).next!);
      assert.deepEqual((await tokensFrom(rp, done, login.verifier)).claims()!.amr, ['pwd', 'face']);

      const removed = await browser.submit(await browser.request('/account/factors'), '/account/factors/face/remove');
      assert.equal(noticeOf(removed), 'The sign-in method was removed.');
      assert.match(removed.html, /id="factor-face"[\s\S]*?not set up/);
      assert.equal((await faceRows('kim')).length, 0);
    });

    test('brain signal: set up with the code on the page and `tessera neural send`; used to sign in', async () => {
      const { browser, page } = await openSetup(issuer(), 'ada', 'neural');
      const path = pathOf(page);
      assert.match(page.html, /Set up brain-signal sign-in/);
      assert.match(page.html, /<script src="\/static\/device-capture.js"/);
      assert.equal(statusUrlOn(page), `${path}/capture`);
      const status = async () => JSON.parse((await browser.request(statusUrlOn(page)!, { headers: JSON_ACCEPT })).html) as { status: string };
      assert.deepEqual(await status(), { status: 'waiting' });
      // The status belongs to this console session: another browser is sent to sign in.
      const stranger = await fetch(`${issuer()}${statusUrlOn(page)}`, { headers: JSON_ACCEPT, redirect: 'manual' });
      assert.equal(stranger.status, 303);
      assert.match(stranger.headers.get('location')!, /^\/auth\?/);

      const sent = await runCli(['neural', 'send', '--code', captureCodeOn(page)!, '--file', enrollmentFile, '--issuer', issuer(), '--json'], {});
      assert.equal(sent.code, 0, sent.stderr);
      assert.deepEqual(await status(), { status: 'received' });
      // The page's script then submits the (file-less) form: the delivered recording is the enrollment.
      const done = await browser.submit(page, path);
      assert.equal(pathOf(done), '/account/factors');
      assert.equal(noticeOf(done), 'The sign-in method is set up.');
      assert.match((await neuralRow('ada')).template_sealed, /^v1\./);

      const login = await signInWith(issuer(), EEG, 'ada');
      assert.match(login.page.html, /Brain-signal check/);
      const probe = await fetch(`${issuer()}/capture/${captureCodeOn(login.page)}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: cutEdf(eegFile(21, 2), 0, 10) });
      assert.equal(probe.status, 202);
      const signedIn = await login.browser.submit(login.page, '/step/neural');
      assert.deepEqual((await tokensFrom(rp, signedIn, login.verifier)).claims()!.amr, ['pwd', 'eeg']);
    });

    test('brain signal: set up with the EDF upload fallback', async () => {
      const { browser, page } = await openSetup(issuer(), 'bob', 'neural');
      const done = await browser.upload(page, pathOf(page), [{ field: 'recording', name: 'rest.edf', type: 'application/octet-stream', data: cutEdf(rest, 60, 60) }]);
      assert.equal(noticeOf(done), 'The sign-in method is set up.', alertOf(done));
      assert.equal((await neuralRow('bob')).model, 'clinical19-v2');
    });

    test('cancelling a set-up returns to the sign-in methods; its page and device code stop working', async () => {
      const { browser, page } = await openSetup(issuer(), 'cat', 'neural');
      const code = captureCodeOn(page)!;
      const back = await browser.submit(page, `${pathOf(page)}/cancel`);
      assert.equal(pathOf(back), '/account/factors');
      assert.match(back.html, /id="factor-neural"[\s\S]*?not set up/);
      assert.equal((await browser.request(pathOf(page))).status, 404);
      const late = await fetch(`${issuer()}/capture/${code}`, { method: 'POST', body: cutEdf(rest, 0, 30) });
      assert.equal(late.status, 404);
      const face = await browser.submit(back, '/account/factors/face/enroll');
      assert.equal(pathOf(await browser.submit(face, `${pathOf(face)}/cancel`)), '/account/factors');
    });

    test('bad input in a set-up gets a clear error, stores nothing, and the set-up can go on', async () => {
      const face = await openSetup(issuer(), 'cat', 'face');
      const path = pathOf(face.page);
      // Refused at the first frame or before: any photos will do for the others.
      const good = photos.slice(0, 4).map((p) => p.bytes);
      const notImage = await face.browser.upload(face.page, path, asFrames([Buffer.from('not a picture'), ...good]), await liveCaptureTimes(5));
      assert.equal(notImage.status, 415);
      assert.match(alertOf(notImage)!, /Frame 1 is not a picture/);
      assert.ok(challengeOf(notImage)[0], 'the page is shown again with a new instruction');
      const few = await face.browser.upload(notImage, path, asFrames(good.slice(0, 2)), {}, JSON_ACCEPT);
      assert.deepEqual(json(few), { ok: false, status: 400, message: 'Send between 5 and 10 camera frames (form field "frame").' });
      const forged = await face.browser.upload(notImage, path, asFrames(good), { csrf: 'forged' }, JSON_ACCEPT);
      assert.equal(forged.status, 403);
      assert.match(json(forged).message!, /form has expired/);
      // A body that is no form at all is refused before the step, and audited for this account.
      const notForm = await face.browser.send(notImage, path, { type: 'application/json', data: '{"frames":[]}' }, JSON_ACCEPT);
      assert.deepEqual(json(notForm), { ok: false, status: 415, message: 'expected a form submission with files (multipart/form-data) or a plain form (application/x-www-form-urlencoded)' });
      const [refused] = await ctx().server.services.audit.query({ type: 'submission.refused', subject: await accountId(ctx(), 'cat'), limit: 1 });
      assert.deepEqual([refused?.clientId, refused?.details], ['tessera-account', { step: 'face', status: 415, reason: 'wrong_content_type' }]);
      // Another account's browser cannot use this set-up.
      const other = await openSetup(issuer(), 'kim', 'face');
      assert.equal((await other.browser.request(path)).status, 404);
      assert.equal((await faceRows('cat')).length, 0);

      const eeg = await openSetup(issuer(), 'cat', 'neural');
      const device = await fetch(`${issuer()}/capture/${captureCodeOn(eeg.page)}`, { method: 'POST', body: 'hello, this is not a recording. '.repeat(20) });
      assert.equal(device.status, 422);
      const upload = await eeg.browser.upload(eeg.page, pathOf(eeg.page), [{ field: 'recording', name: 'x.edf', type: 'application/octet-stream', data: new TextEncoder().encode('not an EDF file at all. '.repeat(20)) }]);
      assert.equal(upload.status, 422);
      assert.match(alertOf(upload)!, /The recording cannot be used/);
      const empty = await eeg.browser.submit(upload, pathOf(eeg.page));
      assert.equal(empty.status, 400);
      assert.match(alertOf(empty)!, /No recording arrived/);
      assert.equal(await neuralRow('cat'), undefined);
      assert.equal((await fetch(`${issuer()}/healthz`)).status, 200);
      // The code on the refreshed page still delivers a good recording.
      assert.equal((await fetch(`${issuer()}/capture/${captureCodeOn(empty)}`, { method: 'POST', body: cutEdf(rest, 120, 30) })).status, 202);
      assert.equal(noticeOf(await eeg.browser.submit(empty, pathOf(eeg.page))), 'The sign-in method is set up.');
    });
  },
  {
    env: { TESSERA_CONFIG: configFile, TESSERA_FACE_CHALLENGES: 'turn_left,turn_right', ...PAD_OFF_FOR_LFW_BURSTS },
    async setup({ server }) {
      for (const username of ['kim', 'ada', 'bob', 'cat']) await server.services.accounts.create({ username, password: PASSWORD });
      const c = await server.services.clients.create({ name: 'Biometric app', redirectUris: ['http://127.0.0.1:9/callback'], firstParty: true });
      rp = await discoverRp(server.issuer, c.client.clientId, { secret: c.secret });
    },
  },
);
