import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { generate } from 'otplib';
import type { Browser, Page } from 'playwright-core';
import { sqliteBackend, type Backend } from '../support/backends.js';
import { launchChromium, screenshot } from '../support/chromium.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SUITE = 'browser-console';
const PASSWORD = 'correct horse battery staple';
const MFA = 'urn:tessera:acr:mfa';

/** A relying party's redirect target: a tiny loopback server that keeps the callback URL. */
async function callbackServer(): Promise<{ server: Server; url: string; received: Promise<URL> }> {
  let resolve!: (url: URL) => void;
  const received = new Promise<URL>((r) => (resolve = r));
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    resolve(url);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>Test RP</title><h1>Back at the test RP</h1>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`, received };
}

// The whole path of a person, in a real browser: SQLite only, to keep the suite fast.
describe('account console in headless Chromium (SQLite)', () => {
  let backend: Backend;
  let server: TestServer;
  let browser: Browser;
  let rpServer: Server;

  before(async () => {
    backend = await sqliteBackend();
    server = await startTestServer(backend);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    rpServer?.close();
    await server?.stop();
    await backend?.dispose();
  });

  test('enroll TOTP in the console, sign out, then sign in to an RP with password + TOTP', async () => {
    await server.services.accounts.create({ username: 'erin', email: 'erin@example.com', name: 'Erin Example', password: PASSWORD });
    const rp = await callbackServer();
    rpServer = rp.server;
    const created = await server.services.clients.create({ name: 'Test RP', redirectUris: [rp.url], firstParty: true });
    const config = await oidc.discovery(new URL(server.issuer), created.client.clientId, created.secret, oidc.ClientSecretBasic(created.secret!), {
      execute: [oidc.allowInsecureRequests],
    });
    const page: Page = await (await browser.newContext()).newPage();
    const shot = (name: string) => screenshot(page, SUITE, name);
    const click = async (name: string, url: RegExp) => {
      await Promise.all([page.waitForURL(url), page.getByRole('button', { name }).click()]);
    };

    // Console sign-in: /account → /auth → the login page.
    await page.goto(`${server.issuer}/account`);
    await page.waitForURL(/\/interaction\//);
    await shot('01-console-sign-in');
    await page.fill('#username', 'erin');
    await page.fill('#password', PASSWORD);
    await click('Sign in', /\/account$/);
    assert.equal(await page.textContent('h1'), 'Your account');
    await shot('02-account-home');

    await page.click('text=Profile');
    await page.waitForURL(/\/account\/profile$/);
    await shot('03-profile');
    await page.goto(`${server.issuer}/account/factors`);
    await shot('04-factors');

    await click('Set up Authenticator app', /\/account\/factors\/totp\/setup\//);
    await shot('05-totp-enroll');
    const secret = (await page.textContent('#manual-key'))!.replace(/\s+/g, '');
    assert.match(secret, /^[A-Z2-7]{32}$/);
    await page.fill('#code', await generate({ secret }));
    await page.getByRole('button', { name: 'Turn on two-step verification' }).click();
    await page.waitForSelector('text=Save your recovery codes');
    await shot('06-recovery-codes');
    const codes = await page.locator('ul.codes code').allTextContents();
    assert.equal(codes.length, 10);
    await Promise.all([page.waitForURL(/\/account\/factors$/), page.click('text=I have saved them')]);
    assert.match((await page.textContent('#factor-totp'))!, /set up/);
    assert.doesNotMatch((await page.textContent('#factor-totp'))!, /not set up/);
    await shot('07-factors-enrolled');

    await page.goto(`${server.issuer}/account/sessions`);
    assert.match((await page.textContent('li.session'))!, /this browser/);
    await shot('08-sessions');

    // Signing out of the console ends the provider session (RP-initiated logout).
    await page.goto(`${server.issuer}/account`);
    await click('Sign out', /\/session\/end/);
    await shot('09-sign-out-confirm');
    await click('Yes, sign me out', /\/session\/end\/success/);
    await shot('10-signed-out');

    // A relying party asking for mfa: password, then a code from the authenticator.
    const verifier = oidc.randomPKCECodeVerifier();
    const nonce = oidc.randomNonce();
    const authUrl = oidc.buildAuthorizationUrl(config, {
      redirect_uri: rp.url,
      scope: 'openid profile',
      acr_values: MFA,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: 'rp-state',
      nonce,
    });
    await page.goto(authUrl.href);
    await page.waitForURL(/\/interaction\//);
    assert.equal(await page.inputValue('#username'), '', 'the session really ended: the password is asked again');
    await shot('11-rp-sign-in');
    await page.fill('#username', 'erin');
    await page.fill('#password', PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('text=Enter the 6-digit code');
    await shot('12-rp-totp');
    // The enrollment used the current time step's code; the next step's is within the tolerance.
    await page.fill('#code', await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }));
    await Promise.all([page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/), page.getByRole('button', { name: 'Verify' }).click()]);
    await shot('13-rp-callback');

    const tokens = await oidc.authorizationCodeGrant(config, await rp.received, { pkceCodeVerifier: verifier, expectedState: 'rp-state', expectedNonce: nonce, idTokenExpected: true });
    const claims = tokens.claims()!;
    assert.deepEqual(claims.amr, ['pwd', 'otp']);
    assert.equal(claims.acr, MFA);
  });
});
