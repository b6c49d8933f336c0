// Continuous authentication end to end on real eegmat recordings: an EEG sign-in whose flow monitors
// the session; the headset streams over the WebSocket; subject A keeps the session, subject B ends
// it within 10 s of signal (provider session gone, refresh token revoked, a valid back-channel
// logout token at the RP), the account console's live view (in Chromium) following it; A over five minutes is never ended; bad input closes only the stream.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as jose from 'jose';
import * as oidc from 'openid-client';
import { decodeRecording } from '../../src/biometrics/neural/ingest.js';
import type { Recording } from '../../src/biometrics/neural/recording.js';
import { CLOSE_CODES } from '../../src/continuous/index.js';
import { DeviceStream, exchangeContinuation, streamSeconds, type Closed } from '../../src/continuous/device-stream.js';
import { SYNC_INTERVAL_MS } from '../../src/continuous/session-monitor.js';
import { encodeFrame } from '../../src/continuous/stream-protocol.js';
import { Browser } from '../support/browser.js';
import { launchChromium, screenshot } from '../support/chromium.js';
import { cutEdf, eegFile } from '../support/eeg.js';
import { authorize, captureCodeOn, tokensFrom } from '../support/interactive.js';
import { discoverRp, type RpClient } from '../support/rp.js';
import { freePort } from '../support/server.js';
import { runCli, spawnServer, stopProcess } from '../support/spawn.js';
import { BackchannelReceiver } from '../support/backchannel-receiver.js';
import { describeOnEachBackend } from '../support/suite.js';

const PASSWORD = 'correct horse battery staple';
const WATCHED = 'urn:tessera:acr:eeg-watched';
const SILENCE_SECONDS = 4;

const configFile = join(mkdtempSync(join(tmpdir(), 'tessera-continuous-')), 'tessera.json');
writeFileSync(
  configFile,
  JSON.stringify({
    flows: {
      password: [{ step: 'password' }],
      watched: { requirements: [{ step: 'password' }, { step: 'neural', continuous: { silenceSeconds: SILENCE_SECONDS } }], enrollAtLogin: true },
    },
    defaultFlow: 'password',
    acr: { 'urn:tessera:acr:password': 'password', [WATCHED]: 'watched' },
  }),
);

// Subject 21 is the user; subject 23 someone else wearing the headset (one of the 88 % of switches
// eval:continuous ends within 10 s: models/neural.md, "Continuous verification").
const aRest = eegFile(21, 1);
const aTask = eegFile(21, 2);
const asRecording = (edf: Uint8Array): Recording => decodeRecording(Buffer.from(edf));
const a = { rest: asRecording(aRest), task: asRecording(aTask) };
const b = asRecording(eegFile(23, 1));

// The RP's back-channel logout endpoint.
let receiver: BackchannelReceiver;
let logoutTokens: string[];
let backchannelUri: string;
before(async () => {
  receiver = await BackchannelReceiver.start();
  logoutTokens = receiver.tokens;
  backchannelUri = receiver.uri;
});
after(() => receiver.close());

let rp: RpClient;

describeOnEachBackend(
  'continuous authentication: EEG stream after sign-in',
  (ctx) => {
    const issuer = () => ctx().server.issuer;
    const audit = async (type: string) => {
      await ctx().server.services.audit.flush();
      return (await ctx().server.services.audit.query({ type, limit: 20 })).map((e) => e.details as Record<string, unknown>);
    };

    /** Password, then the probe from the "headset" (capture code): tokens, and the continuation the device got. */
    async function signIn(probe: Uint8Array, opts: { enroll?: Uint8Array } = {}) {
      const browser = new Browser(issuer());
      const { verifier, page: login } = await authorize(rp, browser, { acr_values: WATCHED, scope: 'openid offline_access', prompt: 'consent' });
      let page = await browser.submit(login, '/step/password', { username: 'ada', password: PASSWORD });
      if (opts.enroll) {
        assert.match(page.html, /Set up brain-signal sign-in/);
        page = await browser.upload(page, '/enroll/neural', [{ field: 'recording', data: opts.enroll, name: 'rest.edf', type: 'application/octet-stream' }]);
      }
      assert.match(page.html, /Brain-signal check/, 'a monitored step is verified, even right after its set-up');
      const sent = await fetch(`${issuer()}/capture/${captureCodeOn(page)}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: probe });
      assert.equal(sent.status, 202);
      const delivered = (await sent.json()) as { continuation?: string; token_endpoint?: string };
      assert.match(delivered.continuation ?? '', /^[A-Za-z0-9_-]{43}$/);
      assert.equal(delivered.token_endpoint, '/continuous/token');
      // Until the sign-in is done, the continuation is pending.
      const early = await fetch(`${issuer()}/continuous/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ continuation: delivered.continuation! }) });
      assert.equal(early.status, 400);
      assert.equal(((await early.json()) as { error: string }).error, 'authorization_pending');
      let done = await browser.submit(page, '/step/neural');
      if (!done.leftTo) done = await browser.submit(done, '/consent');
      const tokens = await tokensFrom(rp, done, verifier);
      return { tokens, continuation: delivered.continuation! };
    }

    const introspect = (token: string) => oidc.tokenIntrospection(rp.config, token);
    async function openStream(continuation: string, recording: Recording) {
      const { token, streamUrl } = await exchangeContinuation(issuer(), continuation, 10_000);
      assert.match(streamUrl, /^ws:\/\/127\.0\.0\.1:\d+\/continuous\/sessions\/[A-Za-z0-9_-]+\/stream$/);
      const stream = await DeviceStream.connect(streamUrl, token);
      stream.hello(recording);
      return { stream, streamUrl, token };
    }

    let first: Awaited<ReturnType<typeof signIn>>;

    test('subject A streaming keeps the session; RPs read the running confidence through introspection and userinfo', async (t) => {
      first = await signIn(cutEdf(aTask, 0, 10), { enroll: cutEdf(aRest, 0, 60) });
      assert.deepEqual(first.tokens.claims()!.amr, ['pwd', 'eeg']);
      const [monitored] = await audit('session.monitored');
      assert.equal(monitored!.step, 'neural');
      assert.equal(monitored!.silenceSeconds, SILENCE_SECONDS);

      const { stream } = await openStream(first.continuation, a.rest);
      const confidences: number[] = [];
      const closed = await streamSeconds(stream, a.rest, 70, 130, { onAnswer: (answer) => confidences.push(answer.confidence) });
      assert.equal(closed, undefined, `A's stream was closed: ${JSON.stringify(closed)}`);
      assert.equal(confidences.length, 60);

      const info = await introspect(first.tokens.access_token);
      assert.equal(info.active, true);
      const claim = info.tessera_continuous as { state: string; confidence: number; floor: number; windows: number; updated_at: number };
      assert.equal(claim.state, 'streaming');
      assert.ok(claim.windows >= 20, `${claim.windows} windows`); // 27 windows (8 s, one every 2 s) in 60 s, synced every 2 s
      assert.ok(claim.confidence > claim.floor, `confidence ${claim.confidence} above floor ${claim.floor}`);
      const userinfo = await oidc.fetchUserInfo(rp.config, first.tokens.access_token, first.tokens.claims()!.sub);
      assert.equal((userinfo.tessera_continuous as { state: string }).state, 'streaming');

      // The account console lists the session with its live confidence.
      const console = new Browser(issuer());
      const consoleLogin = await console.request('/account');
      await console.submit(consoleLogin, '/step/password', { username: 'ada', password: PASSWORD });
      const sessions = await console.request('/account/sessions');
      assert.match(sessions.html, /Kept signed in by your headset: confidence <strong data-field="confidence">-?[\d.]+<\/strong>/);
      assert.match(sessions.html, /<script src="\/static\/continuous-status.js" defer><\/script>/);
      const liveUrl = /data-continuous-url="([^"]+)"/.exec(sessions.html)![1]!;
      const live = JSON.parse((await console.request(liveUrl, { headers: { accept: 'application/json' } })).html) as { state: string; windows: number };
      assert.equal(live.state, 'streaming');
      assert.equal(live.windows, claim.windows);

      // The same page in Chromium: its script follows the checks as they come, then says the session ended.
      const chromium = await launchChromium();
      try {
        const page = await chromium.newPage();
        await page.goto(`${issuer()}/account/sessions`);
        await page.fill('#username', 'ada');
        await page.fill('#password', PASSWORD);
        await page.click('button[type=submit]');
        const shown = page.locator('[data-continuous-url] [data-field="windows"]');
        const windowsBefore = Number(await shown.textContent());
        assert.equal(await streamSeconds(stream, a.rest, 130, 136), undefined);
        // The page asks every 2 s; the shared record lags the stream by up to SYNC_INTERVAL_MS.
        for (let i = 0; i < 50 && Number(await shown.textContent()) <= windowsBefore; i++) await new Promise((r) => setTimeout(r, 200));
        assert.ok(Number(await shown.textContent()) > windowsBefore, 'the page follows the checks');
        await screenshot(page, 'continuous', '01-console-live');

        // Then someone else wears the headset: the session ends within 10 s of their signal.
        logoutTokens.length = 0;
        let bSeconds = 0;
        const ended = (await streamSeconds(stream, b, 70, 100, { onAnswer: () => bSeconds++ })) as Closed;
        assert.equal(ended?.code, CLOSE_CODES.low_confidence, JSON.stringify(ended));
        assert.ok(bSeconds + 1 <= 10, `ended after ${bSeconds + 1} s of B's signal`);
        t.diagnostic(`ended after ${bSeconds + 1} s of B's signal`);
        await page.locator('p.continuous', { hasText: 'This session has ended' }).waitFor({ timeout: 10_000 });
        assert.equal(await page.locator('li.session:has(p.continuous) form').count(), 0, 'no sign-out button for the ended session');
        await screenshot(page, 'continuous', '02-console-ended');
      } finally {
        await chromium.close();
      }


      const [end] = await audit('session.ended');
      assert.equal(end!.reason, 'low_confidence');
      assert.ok(Number(end!.confidence) < Number(end!.floor));
      assert.equal((await introspect(first.tokens.access_token)).active, false, 'the access token went with the grant');
      await assert.rejects(oidc.refreshTokenGrant(rp.config, first.tokens.refresh_token!), (err: oidc.ResponseBodyError) => err.error === 'invalid_grant');
      // The back-channel logout token is valid for this RP and names the session.
      for (let i = 0; i < 50 && logoutTokens.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(logoutTokens.length, 1);
      const { payload } = await jose.jwtVerify(logoutTokens[0]!, jose.createRemoteJWKSet(new URL(`${issuer()}/jwks`)), { issuer: issuer(), audience: rp.config.clientMetadata().client_id, typ: 'logout+jwt' });
      assert.equal(payload.sub, first.tokens.claims()!.sub);
      assert.equal(payload.sid, first.tokens.claims()!.sid);
      assert.ok((payload.events as Record<string, unknown>)['http://schemas.openid.net/event/backchannel-logout']);
      // The device's continuation died with the session, and the console says it has ended.
      await assert.rejects(exchangeContinuation(issuer(), first.continuation, 1000), /invalid_grant/);
      assert.deepEqual(JSON.parse((await console.request(liveUrl, { headers: { accept: 'application/json' } })).html), { state: 'ended' });
    });

    test('subject A over five minutes of signal is never ended', async () => {
      const { tokens, continuation } = await signIn(cutEdf(aTask, 20, 10));
      const { stream } = await openStream(continuation, a.rest);
      let seconds = 0;
      // The rest after the enrolment minute, then the task run, twice over: 328 s of A.
      for (let round = 0; round < 2; round++) {
        for (const [recording, from, to] of [[a.rest, 70, 182], [a.task, 0, 52]] as const) {
          const closed = await streamSeconds(stream, recording, from, to, { onAnswer: () => seconds++ });
          assert.equal(closed, undefined, `closed after ${seconds} s: ${JSON.stringify(closed)}`);
        }
      }
      assert.ok(seconds >= 300, `${seconds} s streamed`);
      assert.equal((await introspect(tokens.access_token)).active, true);
      stream.close();
    });

    test('the reference device client (`tessera neural send --stream`) keeps the session verified', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tessera-stream-cli-'));
      const probe = join(dir, 'probe.edf');
      const streamed = join(dir, 'stream.edf');
      writeFileSync(probe, cutEdf(aTask, 50, 10));
      writeFileSync(streamed, cutEdf(aRest, 100, 30));
      const browser = new Browser(issuer());
      const { verifier, page: login } = await authorize(rp, browser, { acr_values: WATCHED });
      const page = await browser.submit(login, '/step/password', { username: 'ada', password: PASSWORD });
      const cli = runCli(['neural', 'send', '--code', captureCodeOn(page)!, '--file', probe, '--stream', streamed, '--fast', '--json', '--issuer', issuer()], {});
      const statusUrl = /data-status-url="([^"]+)"/.exec(page.html)![1]!;
      for (let i = 0; i < 100 && JSON.parse((await browser.request(statusUrl, { headers: { accept: 'application/json' } })).html).status !== 'received'; i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const tokens = await tokensFrom(rp, await browser.submit(page, '/step/neural'), verifier);
      const { code, stdout, stderr } = await cli;
      assert.equal(code, 0, stderr);
      const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { type?: string; status?: string; windows?: number });
      assert.equal(lines[0]!.status, 'received');
      assert.equal(lines.filter((l) => l.type === 'confidence').length, 30);
      assert.equal(lines.at(-1)!.status, 'streamed');
      const info = await introspect(tokens.access_token);
      assert.equal(info.active, true);
      assert.ok((info.tessera_continuous as { windows: number }).windows >= 8);
    });

    test('bad input closes the stream with its code and ends no session; silence does end it', async () => {
      const { tokens, continuation } = await signIn(cutEdf(aTask, 40, 10));
      const closeOf = async (stream: DeviceStream) => {
        const answer = await stream.next();
        return 'code' in answer ? answer.code : undefined;
      };
      // Each kind of bad input on a stream of its own (a stream token opens one stream).
      const cases: [string, (stream: DeviceStream) => void, number][] = [
        ['garbage frame', (s) => { s.hello(a.rest); s.sendRaw(new Uint8Array([1, 2, 3])); }, CLOSE_CODES.malformed],
        ['text after hello', (s) => { s.hello(a.rest); s.sendRaw('hello again'); }, CLOSE_CODES.unexpected_frame],
        ['wrong rate', (s) => s.sendRaw(JSON.stringify({ type: 'hello', sampleRate: 333.5, channels: a.rest.channels.map((c) => c.label) })), CLOSE_CODES.sample_rate],
        ['montage not covered', (s) => s.sendRaw(JSON.stringify({ type: 'hello', sampleRate: 500, channels: ['EEG Fp1', 'EEG Fp2'] })), CLOSE_CODES.montage_not_covered],
        ['wrong channel count', (s) => { s.hello(a.rest); s.sendRaw(encodeFrame(0, [new Float32Array(7)])); }, CLOSE_CODES.channel_count],
        ['gap', (s) => { s.hello(a.rest); s.sendRaw(encodeFrame(3, a.rest.channels.map((c) => c.samples.subarray(0, 500)))); }, CLOSE_CODES.sequence_gap],
      ];
      for (const [name, misbehave, code] of cases) {
        const { token, streamUrl } = await exchangeContinuation(issuer(), continuation, 5000);
        const stream = await DeviceStream.connect(streamUrl, token);
        misbehave(stream);
        assert.equal(await closeOf(stream), code, name);
      }
      // An unknown token, and a real one presented at another session's stream.
      const { token, streamUrl } = await exchangeContinuation(issuer(), continuation, 5000);
      assert.equal(await closeOf(await DeviceStream.connect(streamUrl, 'x'.repeat(43))), CLOSE_CODES.unauthorised);
      const otherSession = streamUrl.replace(/sessions\/[^/]+\//, 'sessions/someone-else/');
      assert.equal(await closeOf(await DeviceStream.connect(otherSession, token)), CLOSE_CODES.wrong_session);
      assert.equal((await introspect(tokens.access_token)).active, true, 'no bad input ended the session');

      // Nothing for longer than the flow's silence: the session ends on its own (as the previous test's did once its stream closed).
      // Judged from the shared record, which may lag a stream by SYNC_INTERVAL_MS.
      await new Promise((r) => setTimeout(r, SILENCE_SECONDS * 1000 + SYNC_INTERVAL_MS + 1500));
      const sid = tokens.claims()!.sid;
      const end = (await audit('session.ended')).find((e) => e.reason === 'silent' && e.session !== undefined && e.windows === 0);
      assert.ok(end, 'audited as silent');
      assert.equal((await introspect(tokens.access_token)).active, false);
      const sids = () => logoutTokens.map((t) => jose.decodeJwt(t).sid);
      for (let i = 0; i < 50 && !sids().includes(sid); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(sids().includes(sid), 'the RP was told by back-channel logout');
    });

    test('two processes on PostgreSQL + Redis share the session: a stream may land on either, and either ends it', async (t) => {
      const { server, backend } = ctx();
      if (!backend.env.DATABASE_URL) return t.skip('one process on the embedded default');
      const port = await freePort();
      const other = await spawnServer({ ...server.env, LOG_LEVEL: 'warn' }, port);
      try {
        const { tokens, continuation } = await signIn(cutEdf(aTask, 30, 10));
        // Behind a load balancer both answer for the same issuer; here the second is reached by its port.
        const onOther = (url: string) => url.replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${port}`);
        const viaOther = await exchangeContinuation(onOther(issuer()), continuation, 5000);
        const first = await DeviceStream.connect(onOther(viaOther.streamUrl), viaOther.token);
        first.hello(a.rest);
        assert.equal(await streamSeconds(first, a.rest, 70, 100), undefined);
        first.close();
        const seen = (await introspect(tokens.access_token)).tessera_continuous as { windows: number };
        assert.ok(seen.windows >= 8, `this process sees the other's ${seen.windows} windows`);

        // The device reconnects to this process: the running confidence goes on from the shared record.
        const { stream } = await openStream(continuation, a.rest);
        assert.equal(await streamSeconds(stream, a.rest, 100, 110), undefined);
        const after = (await introspect(tokens.access_token)).tessera_continuous as { windows: number };
        assert.ok(after.windows > seen.windows, `${after.windows} windows after ${seen.windows}`);
        const ended = await streamSeconds(stream, b, 70, 100);
        assert.equal(ended?.code, CLOSE_CODES.low_confidence);
        // The other process knows at once: the grant is gone for everyone.
        const { client_id: id, client_secret: secret } = rp.config.clientMetadata();
        const introspected = await fetch(`http://127.0.0.1:${port}/token/introspection`, {
          method: 'POST',
          headers: { authorization: `Basic ${Buffer.from(`${id}:${String(secret)}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ token: tokens.access_token }),
        });
        assert.deepEqual(await introspected.json(), { active: false });
      } finally {
        await stopProcess(other);
      }
    });
  },
  {
    env: { TESSERA_CONFIG: configFile, TESSERA_OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' },
    async setup({ server }) {
      await server.services.accounts.create({ username: 'ada', password: PASSWORD });
      const c = await server.services.clients.create({ name: 'Watched app', redirectUris: ['http://127.0.0.1:9/callback'], backchannelLogoutUri: backchannelUri, firstParty: true });
      rp = await discoverRp(server.issuer, c.client.clientId, { secret: c.secret });
    },
  },
);
