import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Browser, type Page } from '../support/browser.js';
import { addNoise, cut, permuteChannels, resampleTo, scale, splice } from '../../scripts/neural/replay-attacks.js';
import { seededRandom } from '../../scripts/seeded-random.js';
import { decodeRecording } from '../../src/biometrics/neural/ingest.js';
import { currentNeuralModel } from '../../src/biometrics/neural/model-catalog.js';
import { readModelDescription } from '../../src/biometrics/neural/model-file.js';
import type { Recording } from '../../src/biometrics/neural/recording.js';
import { cutEdf, edfHeaderFor, edfToJsonSamples, eegFile } from '../support/eeg.js';
import { alertOf, authorize, captureCodeOn, tokensFrom } from '../support/interactive.js';
import { discoverRp, type RpClient } from '../support/rp.js';
import { expireRecord } from '../support/records.js';
import { runCli } from '../support/spawn.js';
import { postToken } from '../support/token-request.js';
import { describeOnEachBackend } from '../support/suite.js';

const PASSWORD = 'correct horse battery staple';
const EEG = 'urn:tessera:acr:eeg';
const dir = mkdtempSync(join(tmpdir(), 'tessera-neural-'));
const configFile = join(dir, 'tessera.json');
writeFileSync(
  configFile,
  JSON.stringify({
    flows: { password: [{ step: 'password' }], eeg: { requirements: [{ step: 'password' }, { step: 'neural' }], enrollAtLogin: true } },
    defaultFlow: 'password',
    // The replay test makes several failed attempts in a row on one account.
    login: { maxFailuresPerAccount: 20 },
    acr: { 'urn:tessera:acr:password': 'password', [EEG]: 'eeg' },
  }),
);

// Subjects 21–25: held out of the v1 model's training; the current (v2) model was trained on all 26 people.
// No threshold is configured: the current model file's calibrated one applies.
const THRESHOLD = readModelDescription(readFileSync(currentNeuralModel('clinical19').file)).threshold;
const ada = { rest: eegFile(21, 1), task: eegFile(21, 2) };
const bob = { rest: eegFile(22, 1) };
const file = (name: string, bytes: Uint8Array | string) => {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
};
const adaEnrollment = file('ada-rest-60s.edf', cutEdf(ada.rest, 0, 60));
const adaProbe = file('ada-task-10s.edf', cutEdf(ada.task, 0, 10));

let rp: RpClient;

const statusUrlOn = (page: Page) => /data-status-url="([^"]+)"/.exec(page.html)![1]!;

async function startLogin(issuer: string, username: string) {
  const browser = new Browser(issuer);
  const { verifier, page: login } = await authorize(rp, browser, { acr_values: EEG });
  const page = await browser.submit(login, '/step/password', { username, password: PASSWORD });
  assert.equal(page.status, 200, page.html.slice(0, 300));
  return { browser, verifier, page };
}

async function post(issuer: string, code: string, body: Uint8Array | string, type = 'application/octet-stream') {
  const res = await fetch(`${issuer}/capture/${code}`, { method: 'POST', headers: { 'content-type': type }, body });
  return { status: res.status, body: (await res.json()) as { status?: string; error_description?: string } };
}

/** Delivers a recording through the page's code and submits the page as its script would. */
async function deliverAndSubmit(issuer: string, browser: Browser, page: Page, body: Uint8Array | string, action: string) {
  const sent = await post(issuer, captureCodeOn(page)!, body, typeof body === 'string' ? 'application/json' : 'application/octet-stream');
  assert.equal(sent.status, 202, JSON.stringify(sent.body));
  return browser.submit(page, action);
}

describeOnEachBackend(
  'neural-signal (EEG) step: device capture, enrollment, verification, replay defence',
  (ctx) => {
    const issuer = () => ctx().server.issuer;
    const db = () => ctx().server.services.db;
    const auditOf = async (subject: string) =>
      (await ctx().server.services.audit.query({ subject, limit: 50 })).map((e) => ({ type: e.type, details: e.details ?? {} }));

    test('enrollment at login with the recording sent by the reference device client; amr has eeg', async () => {
      const { browser, verifier, page } = await startLogin(issuer(), 'ada');
      assert.match(page.html, /Set up brain-signal sign-in/);
      assert.match(page.html, /<script src="\/static\/device-capture.js"/);
      const code = captureCodeOn(page)!;
      assert.match(code, /^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$/);
      const waiting = await browser.request(statusUrlOn(page), { headers: { accept: 'application/json' } });
      assert.deepEqual(JSON.parse(waiting.html), { status: 'waiting' });

      const sent = await runCli(['neural', 'send', '--code', code.toLowerCase(), '--file', adaEnrollment, '--issuer', issuer(), '--json'], {});
      assert.equal(sent.code, 0, sent.stderr);
      assert.equal(JSON.parse(sent.stdout).status, 'received');
      const received = await browser.request(statusUrlOn(page), { headers: { accept: 'application/json' } });
      assert.deepEqual(JSON.parse(received.html), { status: 'received' });
      // The device capture arrives with the page's (file-less) submission.
      const done = await browser.submit(page, '/enroll/neural');
      const claims = (await tokensFrom(rp, done, verifier)).claims()!;
      assert.deepEqual(claims.amr, ['pwd', 'eeg']);
      assert.equal(claims.acr, EEG);

      const row = await db()('neural_templates').where({ account_id: claims.sub }).first();
      assert.match(row.template_sealed, /^v1\./, 'template sealed at rest');
      assert.equal(row.format, 'cancelable-v1', 'a cancelable template, not the embedding');
      assert.equal(row.model, 'clinical19-v2', 'enrolled with the current model');
      const enrolled = (await auditOf(claims.sub)).find((e) => e.type === 'credential.enrolled')!;
      assert.equal(enrolled.details.windows, 11);
    });

    test('the next sign-in verifies a 10 s task-run probe posted by the device client; score and decision are audited', async () => {
      const { browser, verifier, page } = await startLogin(issuer(), 'ada');
      assert.match(page.html, /Brain-signal check/);
      const sent = await runCli(['neural', 'send', '--code', captureCodeOn(page)!, '--file', adaProbe, '--issuer', issuer()], {});
      assert.equal(sent.code, 0, sent.stderr);
      assert.match(sent.stdout, /sent .*ada-task-10s.edf \(10 s/);
      const done = await browser.submit(page, '/step/neural');
      const claims = (await tokensFrom(rp, done, verifier)).claims()!;
      assert.deepEqual(claims.amr, ['pwd', 'eeg']);
      const success = (await auditOf(claims.sub)).find((e) => e.type === 'login.succeeded' && e.details.step === 'neural')!;
      assert.equal(success.details.decision, 'accept');
      assert.equal(success.details.model, 'clinical19-v2');
      assert.equal(success.details.model_outdated, undefined);
      assert.equal(success.details.threshold, THRESHOLD);
      assert.ok((success.details.score as number) >= THRESHOLD);
      assert.deepEqual(success.details.quality, { seconds: 10, windows_used: 1, windows_rejected: 0 });
      assert.ok(!JSON.stringify(success.details).includes('template'));
    });

    test('a used, wrong, superseded or expired code is refused; the CLI says why', async () => {
      const { browser, page } = await startLogin(issuer(), 'ada');
      const code = captureCodeOn(page)!;
      assert.equal((await post(issuer(), code, cutEdf(ada.task, 30, 10))).status, 202);
      // Two devices racing with one code: exactly one delivery counts.
      const racing = await startLogin(issuer(), 'ada');
      const statuses = await Promise.all([0, 1].map(() => post(issuer(), captureCodeOn(racing.page)!, cutEdf(ada.task, 30, 10)).then((r) => r.status)));
      assert.deepEqual(statuses.sort(), [202, 410]);
      const reused = await runCli(['neural', 'send', '--code', code, '--file', adaProbe, '--issuer', issuer()], {});
      assert.equal(reused.code, 1);
      assert.match(reused.stderr, /refused the recording \(410\): this code has already been used/);
      assert.equal((await post(issuer(), 'ZZZZ-ZZZZ', cutEdf(ada.task, 30, 10))).status, 404);
      const badShape = await runCli(['neural', 'send', '--code', 'nope', '--file', adaProbe], {});
      assert.equal(badShape.code, 2);
      assert.match(badShape.stderr, /--code: expected the 8-character code/);
      // Reloading the page issues a new code; the old one stops working.
      const reloaded = await browser.request(page.url);
      const fresh = captureCodeOn(reloaded)!;
      assert.notEqual(fresh, code);
      assert.equal((await post(issuer(), code, cutEdf(ada.task, 30, 10))).status, 404);
      // A code past its time to live is unknown, and the waiting page hears that it expired.
      const uid = new URL(reloaded.url).pathname.split('/')[2]!;
      const latest = await ctx().server.services.shortLivedRecords.find('CaptureContext', `interaction:${uid}:step:neural`);
      await expireRecord(ctx().server, 'CaptureCode', String(latest!.extra!.codeId));
      assert.equal((await post(issuer(), fresh, cutEdf(ada.task, 30, 10))).status, 404);
      const status = await browser.request(statusUrlOn(reloaded), { headers: { accept: 'application/json' } });
      assert.deepEqual(JSON.parse(status.html), { status: 'expired' });
    });

    test('replays are refused: the same recording again, shifted, rescaled with noise, relabelled, spliced', async () => {
      // Accepted once (previous test's probe: task run 0–10 s); each variant below is refused as a replay.
      const random = seededRandom(5);
      const asJson = (r: Recording) => JSON.stringify({ sampleRate: r.sampleRate, channels: r.channels.map((c) => c.label), samples: r.channels.map((c) => Array.from(c.samples, (v) => Math.round(v * 1000) / 1000)) });
      const enrolled = decodeRecording(cutEdf(ada.rest, 0, 60));
      const probe = decodeRecording(cutEdf(ada.task, 0, 10));
      const subSecond = asJson(cut(enrolled, 20.3461, 10));
      const disguised = asJson(resampleTo(permuteChannels(addNoise(scale(cut(probe, 0, 10), 2), 20, random), random), 256));
      const spliced = asJson(splice(cut(enrolled, 40, 5), cut(probe, 3, 5)));
      const attempts: [string, Uint8Array | string, string][] = [
        ['exact copy', cutEdf(ada.task, 0, 10), 'exact'],
        ['same samples as JSON', JSON.stringify(edfToJsonSamples(cutEdf(ada.task, 0, 10))), 'exact'],
        ['tiny noise', cutEdf(ada.task, 0, 10, { noise: 800 }), 'altered'],
        ['shifted by 1 s', cutEdf(ada.task, 1, 10), 'altered'],
        ['shifted by 4 s', cutEdf(ada.task, 4, 10), 'altered'],
        ['cut from the enrollment recording', cutEdf(ada.rest, 20, 10), 'altered'],
        ['cut from the enrollment recording between two samples', subSecond, 'altered'],
        ['×2, 20 dB noise, channels relabelled, resampled to 256 Hz', disguised, 'altered'],
        ['spliced: 5 s of the enrollment recording, 5 s of the accepted probe', spliced, 'splice'],
      ];
      for (const [what, body, match] of attempts) {
        const { browser, page } = await startLogin(issuer(), 'ada');
        const refused = await deliverAndSubmit(issuer(), browser, page, body, '/step/neural');
        assert.equal(refused.status, 401, what);
        assert.match(alertOf(refused)!, /has been used before/, what);
        const sub = (await ctx().server.services.accounts.findByUsername('ada'))!.id;
        const event = (await auditOf(sub)).find((e) => e.type === 'login.failed' && e.details.step === 'neural')!;
        assert.equal(event.details.reason, 'replay', what);
        assert.equal(event.details.match, match, what);
        assert.equal(event.details.decision, 'reject', what);
        assert.equal(event.details.threshold, THRESHOLD, what);
      }
      // A fresh recording of the same person still passes.
      const { browser, verifier, page } = await startLogin(issuer(), 'ada');
      const ok = await deliverAndSubmit(issuer(), browser, page, cutEdf(ada.task, 40, 10), '/step/neural');
      assert.deepEqual((await tokensFrom(rp, ok, verifier)).claims()!.amr, ['pwd', 'eeg']);
    });

    test('step-up: a password session asked for the eeg level is asked only for the brain signal', async () => {
      const browser = new Browser(issuer());
      const first = await authorize(rp, browser);
      const signedIn = await browser.submit(first.page, '/step/password', { username: 'ada', password: PASSWORD });
      assert.deepEqual((await tokensFrom(rp, signedIn, first.verifier)).claims()!.amr, ['pwd']);
      const { verifier, page } = await authorize(rp, browser, { acr_values: EEG });
      assert.match(page.html, /Brain-signal check/);
      const done = await deliverAndSubmit(issuer(), browser, page, cutEdf(ada.rest, 120, 10), '/step/neural');
      const claims = (await tokensFrom(rp, done, verifier)).claims()!;
      assert.deepEqual(claims.amr, ['pwd', 'eeg']);
      assert.equal(claims.acr, EEG);
    });

    test("an impostor's recording is refused (bob enrolled by EDF upload on the page)", async () => {
      const first = await startLogin(issuer(), 'bob');
      const enrolled = await first.browser.upload(first.page, '/enroll/neural', [{ field: 'recording', name: 'bob.edf', type: 'application/octet-stream', data: cutEdf(bob.rest, 0, 60) }]);
      assert.ok(enrolled.leftTo, `${enrolled.status} ${alertOf(enrolled)}`);
      const { browser, page } = await startLogin(issuer(), 'bob');
      const refused = await browser.upload(page, '/step/neural', [{ field: 'recording', name: 'ada.edf', type: 'application/octet-stream', data: cutEdf(ada.task, 50, 10) }]);
      assert.equal(refused.status, 401);
      assert.match(alertOf(refused)!, /does not match/);
      const sub = (await ctx().server.services.accounts.findByUsername('bob'))!.id;
      const event = (await auditOf(sub)).find((e) => e.type === 'login.failed')!;
      assert.equal(event.details.reason, 'no_match');
      assert.ok((event.details.score as number) < (event.details.threshold as number));
    });

    test('bad recordings get a clear error, nothing is enrolled, the server keeps serving', async () => {
      const login = await startLogin(issuer(), 'cat');
      const browser = login.browser;
      let page = login.page;
      const good = cutEdf(ada.rest, 60, 30);
      const json = edfToJsonSamples(cutEdf(ada.rest, 60, 30));
      const nan = { ...json, samples: json.samples.map((s, i) => (i === 3 ? s.map((v, j) => (j === 100 ? null : v)) : s)) };
      const inf = JSON.stringify(json).replace(/^(.*?"samples":\[\[)([-0-9.e]+)/, '$11e999');
      // 100 Hz: the same 500 samples per record, declared as 5 s records.
      const slow = good.slice();
      slow.set(new TextEncoder().encode('5'.padEnd(8, ' ')), 244);
      const cases: [string, Uint8Array | string, number, RegExp][] = [
        ['not EDF', 'hello, this is not a recording. '.repeat(20), 422, /does not start with the EDF version field/],
        ['truncated EDF', good.subarray(0, good.length - 5000), 422, /truncated/],
        ['wrong sample rate', slow, 422, /sample rate 100 Hz is outside 128–16384 Hz/],
        ['missing channels', JSON.stringify({ ...json, channels: json.channels.slice(0, 8), samples: json.samples.slice(0, 8) }), 422, /lacks 11 of the 19 clinical19 electrodes/],
        ['NaN (null) in JSON samples', JSON.stringify(nan), 422, /not a finite number/],
        ['Infinity in JSON samples', inf, 422, /not a finite number/],
      ];
      for (const [what, body, status, message] of cases) {
        // The device gets the reason at once, and the code stays usable for a better recording.
        for (let attempt = 0; attempt < 2; attempt++) {
          const refused = await post(issuer(), captureCodeOn(page)!, body, typeof body === 'string' ? 'application/json' : 'application/octet-stream');
          assert.equal(refused.status, status, what);
          assert.match(refused.body.error_description!, message, what);
        }
        // The page fallback (upload) says the same, on a page with a fresh code.
        const shown = await browser.upload(page, '/enroll/neural', [{ field: 'recording', name: 'x.edf', type: 'application/octet-stream', data: typeof body === 'string' ? new TextEncoder().encode(body) : body }]);
        assert.equal(shown.status, status, what);
        assert.match(alertOf(shown)!, /The recording cannot be used/, what);
        assert.notEqual(captureCodeOn(shown), captureCodeOn(page));
        page = shown;
      }
      // A 2-hour recording is refused (413) from its declared size, before anything is read.
      const { header, recordBytes } = edfHeaderFor(ada.rest, 7200);
      assert.equal(await postHugeEdf(issuer(), captureCodeOn(page)!, header, recordBytes * 7200), 413);
      const sub = (await ctx().server.services.accounts.findByUsername('cat'))!.id;
      assert.equal(await db()('neural_templates').where({ account_id: sub }).first(), undefined);
      assert.equal((await db()('neural_submissions').where({ account_id: sub })).length, 0);
      assert.equal((await fetch(`${issuer()}/healthz`)).status, 200);
      const failures = (await auditOf(sub)).filter((e) => e.type === 'credential.enroll_failed');
      assert.equal(failures.length, cases.length);
      // The device's refusals never reached the step: they are audited as refused submissions.
      const refused = (await ctx().server.services.audit.query({ type: 'submission.refused', limit: 100 })).map((e) => e.details);
      assert.deepEqual(refused, [{ step: 'neural', status: 413, reason: 'recording_too_large' }, ...Array(cases.length * 2).fill({ step: 'neural', status: 422, reason: 'unusable_payload' })]);
      // The page's code still delivers a good recording, which enrolls.
      const done = await deliverAndSubmit(issuer(), browser, page, good, '/enroll/neural');
      assert.ok(done.leftTo, `${done.status} ${alertOf(done)}`);
    });

    test('a device posting something declared as no recording (an image, a web page) gets 415 with the reason; the code still delivers', async () => {
      const refusals = async () => (await ctx().server.services.audit.query({ type: 'submission.refused', limit: 100 })).length;
      const before = await refusals();
      const { browser, page } = await startLogin(issuer(), 'cat');
      assert.match(page.html, /Brain-signal check/);
      const code = captureCodeOn(page)!;
      for (const type of ['image/png', 'text/html; charset=utf-8']) {
        const refused = await post(issuer(), code, cutEdf(ada.task, 20, 10), type);
        assert.equal(refused.status, 415, type);
        assert.ok(refused.body.error_description!.startsWith(`the upload is declared as ${type.split(';')[0]}, not an EEG recording`), refused.body.error_description);
      }
      await ctx().server.services.audit.flush();
      const [latest] = await ctx().server.services.audit.query({ type: 'submission.refused', limit: 1 });
      assert.deepEqual(latest!.details, { step: 'neural', status: 415, reason: 'wrong_content_type' });
      assert.equal(await refusals(), before + 2);
      // Nothing was delivered: the page still waits, and the same code takes the recording.
      assert.deepEqual(JSON.parse((await browser.request(statusUrlOn(page), { headers: { accept: 'application/json' } })).html), { status: 'waiting' });
      assert.equal((await post(issuer(), code, cutEdf(ada.task, 20, 10))).status, 202);
    });

    test('a sign-in submission refused while its body is read (malformed multipart, too many files) is audited against the sign-in', async () => {
      const { services } = ctx().server;
      const { browser, page } = await startLogin(issuer(), 'cat');
      const malformed = await browser.send(page, '/step/neural', { type: 'multipart/form-data; boundary=zz', data: 'not multipart at all' }, { accept: 'application/json' });
      assert.deepEqual(JSON.parse(malformed.html), { ok: false, status: 400, message: 'the upload is not valid multipart/form-data' });
      const recording = { field: 'recording', type: 'application/octet-stream', data: cutEdf(ada.task, 20, 10) };
      const tooMany = await browser.upload(page, '/step/neural', [recording, recording, recording, recording]);
      assert.equal(tooMany.status, 413);
      assert.match(tooMany.html, /too many files \(limit 3\)/);
      await services.audit.flush();
      const cat = await services.accounts.findByUsername('cat');
      const events = await services.audit.query({ type: 'submission.refused', subject: cat!.id, limit: 2 });
      assert.deepEqual(events.map((e) => e.details), [{ step: 'neural', status: 413, reason: 'too_many_files' }, { step: 'neural', status: 400, reason: 'malformed_multipart' }]);
      assert.deepEqual(events.map((e) => e.clientId), Array(2).fill(rp.config.clientMetadata().client_id));
    });

    test('removing the enrollment (admin API) deletes the template and the replay memory; the next sign-in enrolls again', async () => {
      const { server } = ctx();
      const admin = await server.services.clients.create({ name: 'Admin', grantTypes: ['client_credentials'], scope: 'admin:write' });
      const token = await postToken(server.issuer, { id: admin.client.clientId, secret: admin.secret! }, { grant_type: 'client_credentials', resource: `${server.issuer}/admin/v1`, scope: 'admin:write' });
      const sub = (await server.services.accounts.findByUsername('ada'))!.id;
      assert.ok((await db()('neural_submissions').where({ account_id: sub })).length > 0);
      const removed = await fetch(`${server.issuer}/admin/v1/users/${sub}/enrollments/neural`, { method: 'DELETE', headers: { authorization: `Bearer ${token.body.access_token}` } });
      assert.equal(removed.status, 204);
      assert.equal(await db()('neural_templates').where({ account_id: sub }).first(), undefined);
      assert.equal((await db()('neural_submissions').where({ account_id: sub })).length, 0);
      const { page } = await startLogin(issuer(), 'ada');
      assert.match(page.html, /Set up brain-signal sign-in/);
    });

    test('the reference client checks a file before sending it', async () => {
      const notEdf = file('notes.txt', 'not a recording; '.repeat(30));
      const refused = await runCli(['neural', 'send', '--code', 'ABCD-EFGH', '--file', notEdf, '--issuer', issuer()], {});
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /notes.txt cannot be used: not an EDF file.*\(edf_not_edf\)/);
      // A 2-hour recording is refused from its header, before anything is sent.
      const long = file('two-hours.edf', edfHeaderFor(ada.rest, 7200).header);
      const tooLong = await runCli(['neural', 'send', '--code', 'ABCD-EFGH', '--file', long, '--issuer', issuer(), '--json'], {});
      assert.equal(tooLong.code, 1);
      assert.match(tooLong.stderr, /recording lasts 7200 s; the limit is 600 s \(recording_too_long\)/);
    });
  },
  {
    env: { TESSERA_CONFIG: configFile },
    async setup({ server }) {
      for (const username of ['ada', 'bob', 'cat']) await server.services.accounts.create({ username, password: PASSWORD });
      const c = await server.services.clients.create({ name: 'EEG app', redirectUris: ['http://127.0.0.1:9/callback'], firstParty: true });
      rp = await discoverRp(server.issuer, c.client.clientId, { secret: c.secret });
    },
  },
);

/** Streams a file of `total` bytes the way a device would; returns the status the server answers with. */
function postHugeEdf(issuer: string, code: string, header: Uint8Array, total: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${issuer}/capture/${code}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'content-length': header.length + total } }, (res) => {
      res.resume();
      resolve(res.statusCode!);
      req.destroy();
    });
    req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
    req.write(header);
  });
}
