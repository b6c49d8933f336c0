// A flow that fuses the face and brain-signal steps (`{ "fuse": ["face", "neural"], "far": 1e-4 }`)
// end to end, with real photos and real EEG: both set up at the first sign-in; afterwards each step
// reports its calibrated score and one decision is made on their sum; another person's brain
// signal sinks a genuine face; a replayed recording is still refused by the step itself; a fused
// requirement that monitors the session is kept by the headset's stream, and ended by another person's.
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
import { describeOnEachBackend } from '../support/suite.js';
import { PAD_OFF_FOR_LFW_BURSTS, sharedDataDir, sharedPipeline } from '../unit/face-support.js';
import { decodeRecording } from '../../src/biometrics/neural/ingest.js';
import { CLOSE_CODES } from '../../src/continuous/index.js';
import { DeviceStream, exchangeContinuation, streamSeconds } from '../../src/continuous/device-stream.js';
import { FUSED_REJECTION } from '../../src/interaction/fused-matches.js';

const PASSWORD = 'correct horse battery staple';
const FUSED = 'urn:tessera:acr:face-and-eeg';
const WATCHED = 'urn:tessera:acr:face-and-eeg-watched';
const FAR = 1e-4;

const configFile = join(mkdtempSync(join(tmpdir(), 'tessera-fusion-')), 'tessera.json');
writeFileSync(
  configFile,
  JSON.stringify({
    flows: {
      password: [{ step: 'password' }],
      fused: { requirements: [{ step: 'password' }, { fuse: ['face', 'neural'], far: FAR }], enrollAtLogin: true },
      // The same, and the headset that delivered the EEG probe keeps the session verified afterwards.
      watched: { requirements: [{ step: 'password' }, { fuse: ['face', 'neural'], far: FAR, continuous: {} }], enrollAtLogin: true },
    },
    defaultFlow: 'password',
    acr: { 'urn:tessera:acr:password': 'password', [FUSED]: 'fused', [WATCHED]: 'watched' },
  }),
);

// Subject 21's brain and Junichiro Koizumi's face make one user; subject 23 is another person.
// (Not subject 22: its signal is the closest to 21's in eegmat, LLR about −7 against a face as
// close as these photos, about +15, so their sum can clear −ln(1e-4) = 9.2: fusion as designed,
// a strong match carrying a weak mismatch. Subject 23's is about −15.)
const ada = { rest: eegFile(21, 1), task: eegFile(21, 2) };
const bob = { rest: eegFile(23, 1) };
const bobStream = decodeRecording(Buffer.from(bob.rest));
const recording = (edf: Uint8Array, name: string) => ({ field: 'recording', data: edf, name, type: 'application/octet-stream' });

let person: PosedPhoto[] = [];
before(async () => {
  person = await posedPhotos(await sharedPipeline(), join(sharedDataDir(), 'faces-lfw-dev', 'Junichiro_Koizumi'));
});

let rp: RpClient;

interface Scored {
  step: string;
  matcher: string;
  score: number;
  llr: number;
}

describeOnEachBackend(
  'fused face + brain-signal requirement',
  (ctx) => {
    let bursts: BurstBuilder;
    before(() => {
      bursts = new BurstBuilder(person);
    });
    const issuer = () => ctx().server.issuer;
    const events = async (type: string, subject: string) => {
      await ctx().server.services.audit.flush();
      return (await ctx().server.services.audit.query({ type, subject, limit: 20 })).map((e) => e.details as Record<string, unknown>);
    };

    async function startLogin(acr = FUSED, username = 'fay') {
      const browser = new Browser(issuer());
      const { verifier, page: login } = await authorize(rp, browser, { acr_values: acr });
      return { browser, verifier, page: await browser.submit(login, '/step/password', { username, password: PASSWORD }) };
    }
    const sendFace = async (browser: Browser, page: Page, action: string, from = bursts) => {
      const frames = from.take(challengeOn(page.html)).frames;
      return browser.upload(page, action, frames.map((data) => ({ field: 'frame', data })), await liveCaptureTimes(frames.length));
    };

    test('the first sign-in sets up both fused steps; the ID token lists both methods', async () => {
      const { browser, verifier, page } = await startLogin();
      assert.match(page.html, /Set up face sign-in/);
      const eegSetUp = await sendFace(browser, page, '/enroll/face');
      assert.match(eegSetUp.html, /Set up brain-signal sign-in/);
      const done = await browser.upload(eegSetUp, '/enroll/neural', [recording(cutEdf(ada.rest, 0, 60), 'rest.edf')]);
      const claims = (await tokensFrom(rp, done, verifier)).claims()!;
      assert.deepEqual(claims.amr, ['pwd', 'face', 'eeg']);
      assert.equal(claims.acr, FUSED);
    });

    test('each step reports its calibrated score and one decision is made on their sum', async () => {
      const { browser, verifier, page } = await startLogin();
      assert.match(page.html, /Face check/);
      const eegPage = await sendFace(browser, page, '/step/face');
      assert.equal(eegPage.status, 200);
      assert.match(eegPage.html, /Brain-signal check/, 'the face alone does not finish the fused requirement');
      const done = await browser.upload(eegPage, '/step/neural', [recording(cutEdf(ada.task, 0, 10), 'task.edf')]);
      const claims = (await tokensFrom(rp, done, verifier)).claims()!;
      assert.deepEqual(claims.amr, ['pwd', 'face', 'eeg']);
      assert.equal(claims.acr, FUSED);

      const scored = await events('login.scored', claims.sub);
      assert.deepEqual(scored.map((d) => [d.step, d.fused]), [['neural', true], ['face', true]]);
      const [decision] = (await events('login.succeeded', claims.sub)).filter((d) => d.step === 'fuse');
      assert.ok(decision, 'the fused decision is audited');
      assert.deepEqual(decision.fuse, ['face', 'neural']);
      assert.deepEqual(decision.amr, ['face', 'eeg']);
      assert.equal(decision.decision, 'accept');
      assert.equal(decision.far, FAR);
      assert.equal(decision.threshold, Number((-Math.log(FAR)).toFixed(3)));
      const parts = decision.scores as Scored[];
      assert.deepEqual(parts.map((p) => [p.step, p.matcher]), [['face', 'face'], ['neural', 'neural']]);
      // Each part is the LLR its step audited, and the decision is their sum against −ln(FAR).
      for (const part of parts) assert.equal(part.llr, scored.find((d) => d.step === part.step)!.llr);
      const sum = parts.reduce((s, p) => s + p.llr, 0);
      assert.ok(Math.abs(Number(decision.llr) - sum) < 0.002);
      assert.ok(sum >= -Math.log(FAR));
      // No login.succeeded of the steps on their own: only the fused one decides.
      assert.equal((await events('login.succeeded', claims.sub)).filter((d) => d.step === 'face' || d.step === 'neural').length, 0);
    });

    test("another person's brain signal sinks a genuine face: refused as one decision, and both are asked again", async () => {
      const { browser, verifier, page } = await startLogin();
      const eegPage = await sendFace(browser, page, '/step/face');
      const refused = await browser.upload(eegPage, '/step/neural', [recording(cutEdf(bob.rest, 70, 10), 'other.edf')]);
      assert.equal(refused.status, 401);
      assert.equal(alertOf(refused), FUSED_REJECTION);
      assert.match(refused.html, /Face check/, 'the fused requirement starts over from its first step');
      const account = await ctx().server.services.accounts.findByUsername('fay');
      const [failed] = await events('login.failed', account!.id);
      assert.equal(failed!.reason, 'fused_no_match');
      assert.equal(failed!.decision, 'reject');
      const parts = failed!.scores as Scored[];
      assert.ok(parts.find((p) => p.step === 'face')!.llr > 0, 'the face on its own speaks for the user');
      assert.ok(Number(failed!.llr) < -Math.log(FAR));

      // The probe accepted in the previous sign-in is still a replay, refused by the step itself.
      const eegAgain = await sendFace(browser, refused, '/step/face');
      const replayed = await browser.upload(eegAgain, '/step/neural', [recording(cutEdf(ada.task, 0, 10), 'task.edf')]);
      assert.equal(replayed.status, 401);
      assert.match(alertOf(replayed)!, /used before/);
      const [replay] = await events('login.failed', account!.id);
      assert.equal(replay!.reason, 'replay');

      // The step's own refusal keeps the face evidence: only a fresh recording is needed.
      assert.match(replayed.html, /Brain-signal check/);
      const done = await browser.upload(replayed, '/step/neural', [recording(cutEdf(ada.task, 20, 10), 'task-2.edf')]);
      assert.deepEqual((await tokensFrom(rp, done, verifier)).claims()!.amr, ['pwd', 'face', 'eeg']);
    });

    test('a fused requirement can monitor the session: the headset that delivered the EEG probe keeps streaming, and another person ends it', async () => {
      // Gus (a new account: fay's replay memory holds most of the photos) sets both up in this sign-in;
      // the monitored EEG step is then verified, so that the stream starts from a match.
      const { browser, verifier, page } = await startLogin(WATCHED, 'gus');
      const photos = new BurstBuilder(person);
      const eegSetUp = await sendFace(browser, page, '/enroll/face', photos);
      const faceCheck = await browser.upload(eegSetUp, '/enroll/neural', [recording(cutEdf(ada.rest, 0, 60), 'rest.edf')]);
      assert.match(faceCheck.html, /Face check/);
      const eegPage = await sendFace(browser, faceCheck, '/step/face', photos);
      // A file chosen on the page comes from no headset that could keep streaming.
      const asFile = await browser.upload(eegPage, '/step/neural', [recording(cutEdf(ada.task, 40, 10), 'task.edf')]);
      assert.equal(asFile.status, 400);
      assert.match(alertOf(asFile)!, /send the recording from your headset app/);
      const sent = await fetch(`${issuer()}/capture/${captureCodeOn(asFile)}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: cutEdf(ada.task, 40, 10) });
      assert.equal(sent.status, 202);
      const { continuation } = (await sent.json()) as { continuation: string };
      const claims = (await tokensFrom(rp, await browser.submit(asFile, '/step/neural'), verifier)).claims()!;
      assert.deepEqual(claims.amr, ['pwd', 'face', 'eeg']);
      assert.equal(claims.acr, WATCHED);
      const [decision] = (await events('login.succeeded', claims.sub)).filter((d) => d.step === 'fuse');
      assert.equal(decision!.decision, 'accept');
      const [monitored] = await events('session.monitored', claims.sub);
      assert.equal(monitored!.step, 'neural');

      const { token, streamUrl } = await exchangeContinuation(issuer(), continuation, 10_000);
      const stream = await DeviceStream.connect(streamUrl, token);
      stream.hello(bobStream);
      const ended = await streamSeconds(stream, bobStream, 70, 100);
      assert.equal(ended?.code, CLOSE_CODES.low_confidence, JSON.stringify(ended));
      const [end] = await events('session.ended', claims.sub);
      assert.equal(end!.reason, 'low_confidence');
    });
  },
  {
    env: { TESSERA_CONFIG: configFile, TESSERA_FACE_CHALLENGES: 'turn_left,turn_right', TESSERA_FACE_CHALLENGE_SECONDS: '20', ...PAD_OFF_FOR_LFW_BURSTS },
    async setup({ server }) {
      for (const username of ['fay', 'gus']) await server.services.accounts.create({ username, password: PASSWORD });
      const c = await server.services.clients.create({ name: 'Fused app', redirectUris: ['http://127.0.0.1:9/callback'], firstParty: true });
      rp = await discoverRp(server.issuer, c.client.clientId, { secret: c.secret });
    },
  },
);
