import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generate } from 'otplib';
import { Browser } from '../support/browser.js';
import { alertOf, authorize, tokensFrom } from '../support/interactive.js';
import { discoverRp, type RpClient } from '../support/rp.js';
import { describeOnEachBackend } from '../support/suite.js';

const PASSWORD = 'correct horse battery staple';
const MFA = 'urn:tessera:acr:mfa';

let rp: RpClient;
let secret = '';
let enrolledWith = '';
let recoveryCodes: string[] = [];

const codeAt = (offsetSteps: number) => generate({ secret, epoch: Math.floor(Date.now() / 1000) + offsetSteps * 30 });

/** Starts a sign-in with the given acr and submits the password; returns the page that follows. */
async function startLogin(issuer: string, acr: string, browser = new Browser(issuer)) {
  const { verifier, page: login } = await authorize(rp, browser, { acr_values: acr });
  const next = await browser.submit(login, '/step/password', { username: 'tina', password: PASSWORD });
  return { browser, verifier, page: next };
}

describeOnEachBackend(
  'password + TOTP sign-in',
  (ctx) => {
    test('discovery advertises both assurance levels', async () => {
      const meta = (await (await fetch(`${ctx().server.issuer}/.well-known/openid-configuration`)).json()) as { acr_values_supported: string[] };
      assert.deepEqual(meta.acr_values_supported, ['urn:tessera:acr:password', MFA]);
    });

    test('an mfa sign-in without TOTP enrolls it at login; the ID token says pwd + otp', async () => {
      const { browser, verifier, page } = await startLogin(ctx().server.issuer, MFA);
      assert.equal(page.status, 200);
      assert.match(page.html, /Set up two-step verification/);
      assert.match(page.html, /<img src="data:image\/png;base64,/, 'QR code rendered server-side');
      secret = /<code id="manual-key"[^>]*>([^<]*)</.exec(page.html)![1]!.replace(/\s+/g, '');
      assert.match(secret, /^[A-Z2-7]{32}$/);
      const wrong = await browser.submit(page, '/enroll/totp', { code: (Number(await codeAt(0)) ^ 1).toString().padStart(6, '0').slice(-6) });
      assert.equal(wrong.status, 401);
      enrolledWith = await codeAt(0);
      const codes = await browser.submit(wrong, '/enroll/totp', { code: enrolledWith });
      assert.equal(codes.status, 200);
      recoveryCodes = [...codes.html.matchAll(/<li><code>([A-Z0-9-]+)<\/code><\/li>/g)].map((m) => m[1]!);
      assert.equal(recoveryCodes.length, 10);
      const cont = /href="([^"]+)"/.exec(codes.html.slice(codes.html.indexOf('class="button"') - 200))![1]!;
      const done = await browser.request(cont);
      const tokens = await tokensFrom(rp, done, verifier);
      assert.deepEqual(tokens.claims()!.amr, ['pwd', 'otp']);
      assert.equal(tokens.claims()!.acr, MFA);
    });

    test('the next sign-in asks for a code; a code already used is refused as a replay', async () => {
      const { browser, verifier, page } = await startLogin(ctx().server.issuer, MFA);
      assert.match(page.html, /Two-step verification/);
      // The code that confirmed the enrollment has been used.
      const replay = await browser.submit(page, '/step/totp', { code: enrolledWith });
      assert.equal(replay.status, 401);
      assert.match(alertOf(replay)!, /already been used/);
      // The next time step's code is within the ±1 step tolerance.
      const next = await codeAt(1);
      const ok = await browser.submit(replay, '/step/totp', { code: next });
      const tokens = await tokensFrom(rp, ok, verifier);
      assert.deepEqual(tokens.claims()!.amr, ['pwd', 'otp']);
      // Accepted once, whichever sign-in (or process) presents it next.
      const again = await startLogin(ctx().server.issuer, MFA);
      const reused = await again.browser.submit(again.page, '/step/totp', { code: next });
      assert.equal(reused.status, 401);
      assert.match(alertOf(reused)!, /already been used/);
    });

    test('a recovery code works once', async () => {
      const first = await startLogin(ctx().server.issuer, MFA);
      const ok = await first.browser.submit(first.page, '/step/totp', { code: recoveryCodes[0]!.toLowerCase() });
      assert.deepEqual((await tokensFrom(rp, ok, first.verifier)).claims()!.amr, ['pwd', 'otp']);
      const second = await startLogin(ctx().server.issuer, MFA);
      const refused = await second.browser.submit(second.page, '/step/totp', { code: recoveryCodes[0]! });
      assert.equal(refused.status, 401);
      await ctx().server.services.audit.flush();
      const [last] = await ctx().server.services.audit.query({ type: 'login.succeeded' });
      assert.ok(!JSON.stringify(last).includes(recoveryCodes[0]!), 'codes are never logged');
    });

    test('a password-level request is not asked for a code', async () => {
      const { verifier, page } = await startLogin(ctx().server.issuer, 'urn:tessera:acr:password');
      const tokens = await tokensFrom(rp, page, verifier);
      assert.deepEqual(tokens.claims()!.amr, ['pwd']);
      assert.equal(tokens.claims()!.acr, 'urn:tessera:acr:password');
    });

    test('step-up: a password session asked for mfa gets only the TOTP step', async () => {
      const { browser, verifier, page } = await startLogin(ctx().server.issuer, 'urn:tessera:acr:password');
      assert.deepEqual((await tokensFrom(rp, page, verifier)).claims()!.amr, ['pwd']);
      const up = await authorize(rp, browser, { acr_values: MFA });
      assert.match(up.page.html, /Two-step verification/);
      assert.doesNotMatch(up.page.html, /name="password"/, 'the password is not asked again');
      const done = await browser.submit(up.page, '/step/totp', { code: recoveryCodes[1]! });
      const claims = (await tokensFrom(rp, done, up.verifier)).claims()!;
      assert.deepEqual(claims.amr, ['pwd', 'otp']);
      assert.equal(claims.acr, MFA);
      // The session now meets mfa: the next request signs in without any page.
      const sso = await authorize(rp, browser, { acr_values: MFA });
      assert.deepEqual((await tokensFrom(rp, sso.page, sso.verifier)).claims()!.amr, ['pwd', 'otp']);
      // An essential request for the password level is met by the stronger session as well.
      const essential = await authorize(rp, browser, { claims: JSON.stringify({ id_token: { acr: { essential: true, value: 'urn:tessera:acr:password' } } }) });
      assert.equal((await tokensFrom(rp, essential.page, essential.verifier)).claims()!.acr, 'urn:tessera:acr:password');
    });

    test('max_age forces a fresh sign-in even with a session', async () => {
      const { browser, verifier, page } = await startLogin(ctx().server.issuer, 'urn:tessera:acr:password');
      await tokensFrom(rp, page, verifier);
      // auth_time has one-second resolution: wait until it is certainly more than a second old.
      await new Promise((r) => setTimeout(r, 2100));
      const again = await authorize(rp, browser, { max_age: '1' });
      assert.match(again.page.html, /name="password"/);
    });

    test('a re-authentication asking for a second factor gets the TOTP step after the password', async () => {
      const browser = new Browser(ctx().server.issuer);
      const { verifier, page } = await authorize(rp, browser, { acr_values: 'urn:tessera:acr:password', prompt: 'login', tessera_reauth: 'second_factor' });
      const next = await browser.submit(page, '/step/password', { username: 'tina', password: PASSWORD });
      assert.match(next.html, /Two-step verification/, 'the password alone is not enough');
      const done = await browser.submit(next, '/step/totp', { code: recoveryCodes[2]! });
      assert.deepEqual((await tokensFrom(rp, done, verifier)).claims()!.amr, ['pwd', 'otp']);
    });

    test('an essential acr the server cannot provide ends with unmet_authentication_requirements', async () => {
      const res = await authorize(rp, new Browser(ctx().server.issuer), {
        claims: JSON.stringify({ id_token: { acr: { essential: true, values: ['urn:example:loa:4'] } } }),
      });
      const back = new URL(res.page.leftTo!);
      assert.equal(back.searchParams.get('error'), 'unmet_authentication_requirements');
      assert.equal(back.searchParams.get('state'), 'st');
    });

    test('wrong codes count toward the lockout', async () => {
      const { browser, page } = await startLogin(ctx().server.issuer, MFA);
      // Earlier refusals in this suite may already count; at most five failures lock the account.
      let last = page;
      const statuses: number[] = [];
      while (statuses.length < 6 && last.status !== 429) {
        last = await browser.submit(last, '/step/totp', { code: '000000' });
        statuses.push(last.status);
      }
      assert.ok(statuses.slice(0, -1).every((s) => s === 401), String(statuses));
      const locked = await browser.submit(last, '/step/totp', { code: await codeAt(0) });
      assert.equal(locked.status, 429, 'even a right code is refused while locked');
      assert.match(alertOf(locked)!, /Too many wrong codes/);
    });
  },
  {
    async setup({ server }) {
      await server.services.accounts.create({ username: 'tina', password: PASSWORD });
      const c = await server.services.clients.create({ name: 'MFA app', redirectUris: ['http://127.0.0.1:9/callback'], firstParty: true });
      rp = await discoverRp(server.issuer, c.client.clientId, { secret: c.secret });
    },
  },
);
