import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generate } from 'otplib';
import { Browser } from '../support/browser.js';
import { authorize, tokensFrom } from '../support/interactive.js';
import { discoverRp, type RpClient } from '../support/rp.js';
import { describeOnEachBackend } from '../support/suite.js';

const PASSWORD = 'correct horse battery staple';
const PWD = 'urn:tessera:acr:password';

let rp: RpClient;
let recovery: string[] = [];

async function password(browser: Browser, extra: Record<string, string> = {}) {
  const { verifier, page } = await authorize(rp, browser, { acr_values: PWD, prompt: 'login', ...extra });
  return { verifier, page: await browser.submit(page, '/step/password', { username: 'rita', password: PASSWORD }) };
}

describeOnEachBackend(
  'risk signal: new devices and recent failures add the TOTP step',
  (ctx) => {
    test('enrolling TOTP (mfa sign-in) remembers this device and network', async () => {
      const browser = new Browser(ctx().server.issuer);
      const { verifier, page } = await authorize(rp, browser, { acr_values: 'urn:tessera:acr:mfa' });
      const enroll = await browser.submit(page, '/step/password', { username: 'rita', password: PASSWORD });
      const secret = /<code id="manual-key"[^>]*>([^<]*)</.exec(enroll.html)![1]!.replace(/\s+/g, '');
      const codes = await browser.submit(enroll, '/enroll/totp', { code: await generate({ secret }) });
      recovery = [...codes.html.matchAll(/<li><code>([A-Z0-9-]+)<\/code><\/li>/g)].map((m) => m[1]!);
      const done = await browser.request(/href="(\/interaction\/[^"]+)"/.exec(codes.html)![1]!);
      assert.deepEqual((await tokensFrom(rp, done, verifier)).claims()!.amr, ['pwd', 'otp']);
      // Same device: a password-level sign-in stays password-only.
      const again = await password(browser);
      assert.deepEqual((await tokensFrom(rp, again.page, again.verifier)).claims()!.amr, ['pwd']);
    });

    test('a device never seen for the account must also pass TOTP; the reason is audited', async () => {
      const stranger = new Browser(ctx().server.issuer);
      const { verifier, page } = await password(stranger);
      assert.match(page.html, /Two-step verification/);
      const done = await stranger.submit(page, '/step/totp', { code: recovery[0]! });
      const claims = (await tokensFrom(rp, done, verifier)).claims()!;
      assert.deepEqual(claims.amr, ['pwd', 'otp']);
      await ctx().server.services.audit.flush();
      const [risk] = await ctx().server.services.audit.query({ type: 'login.risk' });
      assert.deepEqual(risk?.details?.reasons, ['new_device']);
      assert.equal(risk?.details?.added, true);
      // Now known: no extra step.
      const again = await password(stranger);
      assert.deepEqual((await tokensFrom(rp, again.page, again.verifier)).claims()!.amr, ['pwd']);
    });

    test('failed attempts since the last sign-in add the step even on a known device', async () => {
      const browser = new Browser(ctx().server.issuer);
      // Make this device known first.
      const first = await password(browser);
      await browser.submit(first.page, '/step/totp', { code: recovery[1]! });
      const { page: login } = await authorize(rp, browser, { acr_values: PWD, prompt: 'login' });
      const failed = await browser.submit(login, '/step/password', { username: 'rita', password: 'wrong password' });
      assert.equal(failed.status, 401);
      const retry = await browser.submit(failed, '/step/password', { username: 'rita', password: PASSWORD });
      assert.match(retry.html, /Two-step verification/);
      await ctx().server.services.audit.flush();
      const [risk] = await ctx().server.services.audit.query({ type: 'login.risk' });
      assert.deepEqual(risk?.details?.reasons, ['recent_failures']);
    });
  },
  {
    env: { TESSERA_RISK_STEP: 'totp' },
    async setup({ server }) {
      await server.services.accounts.create({ username: 'rita', password: PASSWORD });
      const c = await server.services.clients.create({ name: 'Risky app', redirectUris: ['http://127.0.0.1:9/callback'], firstParty: true });
      rp = await discoverRp(server.issuer, c.client.clientId, { secret: c.secret });
    },
  },
);
