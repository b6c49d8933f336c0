// Passkeys in headless Chromium with a CDP virtual authenticator (CTAP2, resident keys, user
// verification): one page keeps the authenticator for the whole file, cookies are cleared to be a
// new visitor. Added (and renamed) in the account console, then: usernameless sign-in, a second
// factor after a password, step-up from a password session, a wrong origin, removal (with
// re-authentication), set-up during sign-in. SQLite only.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import { sqliteBackend, type Backend } from '../support/backends.js';
import { bodyEcho } from '../support/body-echo.js';
import { launchChromium, screenshot } from '../support/chromium.js';
import { authorizationUrl } from '../support/interactive.js';
import { discoverRp, type RpClient } from '../support/rp.js';
import { freePort, startTestServer, type TestServer } from '../support/server.js';

const SUITE = 'passkey';
const PASSWORD = 'correct horse battery staple';
const ACR = { password: 'urn:tessera:acr:password', passkey: 'urn:tessera:acr:passkey', both: 'urn:tessera:acr:password-passkey', enrol: 'urn:tessera:acr:enrol' };
// Another origin with the same RP ID (ports are not part of it): the page is served by the test itself.
const OTHER_ORIGIN = 'http://localhost:8790';
const REAUTH_SECONDS = 5;

describe('passkeys in headless Chromium (SQLite)', () => {
  let backend: Backend;
  let server: TestServer;
  let rp: RpClient;
  let browser: Browser;
  let page: Page;
  let dir: string;
  let accountId: string;
  // The application's callback: a loopback server that only answers; the code is taken from the browser's request.
  let application: { url: string; close(): void };
  let CALLBACK: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-passkey-'));
    const configFile = join(dir, 'tessera.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        flows: {
          password: [{ step: 'password' }],
          passkey: [{ step: 'passkey' }],
          both: [{ step: 'password' }, { step: 'passkey' }],
          enrol: { requirements: [{ step: 'password' }, { step: 'passkey' }], enrollAtLogin: true },
        },
        acr: { [ACR.password]: 'password', [ACR.passkey]: 'passkey', [ACR.both]: 'both', [ACR.enrol]: 'enrol' },
      }),
    );
    backend = await sqliteBackend();
    // WebAuthn takes no IP address for an RP ID: this issuer is named localhost (still a secure context).
    const port = await freePort();
    const env = { PORT: String(port), ISSUER: `http://localhost:${port}`, TESSERA_CONFIG: configFile, TESSERA_ACCOUNT_REAUTH_SECONDS: String(REAUTH_SECONDS) };
    server = await startTestServer(backend, env);
    accountId = (await server.services.accounts.create({ username: 'pia', name: 'Pia Passkey', password: PASSWORD })).id;
    application = await bodyEcho(async () => 'back at the application');
    CALLBACK = `${application.url}/callback`;
    const c = await server.services.clients.create({ name: 'Passkey app', redirectUris: [CALLBACK], firstParty: true });
    rp = await discoverRp(server.issuer, c.client.clientId, { secret: c.secret }, CALLBACK);
    browser = await launchChromium();
    page = await browser.newPage();
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    await page.route(`${OTHER_ORIGIN}/**`, (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>Another site</title>' }));
  });

  after(async () => {
    await browser?.close();
    application?.close();
    await server?.stop();
    await backend?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  async function signInWithPassword(username = 'pia') {
    await page.fill('#username', username);
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
  }

  /** Presses the passkey page's button (the virtual authenticator answers at once). */
  async function usePasskey(expectedTitle: RegExp) {
    await page.waitForSelector('#passkey-start');
    assert.match((await page.textContent('h1')) ?? '', expectedTitle);
    await page.click('#passkey-start');
  }

  /** Starts a sign-in at the test application; returns the PKCE verifier. */
  async function startAtApplication(acr: string) {
    const { verifier, url } = await authorizationUrl(rp, { redirect_uri: CALLBACK, acr_values: acr });
    await page.goto(url.href);
    return verifier;
  }

  /** The ID token claims, once the browser is sent back to the application with a code. */
  async function backAtApplication(verifier: string, shot: string, start: () => Promise<void>) {
    const callback = page.waitForRequest((r) => r.url().startsWith(CALLBACK), { timeout: 15_000 });
    await start();
    const request = await callback.catch(async (error: Error) => {
      await screenshot(page, SUITE, `${shot}-failed`);
      throw new Error(`${error.message}; page says: ${await page.locator('#passkey-error').textContent({ timeout: 1000 }).catch(() => '?')}`);
    });
    await page.waitForURL((url) => url.href.startsWith(CALLBACK));
    const tokens = await oidc.authorizationCodeGrant(rp.config, new URL(request.url()), { pkceCodeVerifier: verifier, expectedState: 'st' });
    return tokens.claims()!;
  }

  /** Waits for the browser to reach `url`; a failure says what the page showed. */
  async function landsOn(url: RegExp, shot: string) {
    await page.waitForURL(url, { timeout: 15_000 }).catch(async (error: Error) => {
      await screenshot(page, SUITE, `${shot}-failed`);
      throw new Error(`${error.message}; at ${page.url()} the page says: ${await page.locator('.alert').first().textContent({ timeout: 1000 }).catch(() => '?')}`);
    });
  }

  const signOut = () => page.context().clearCookies();

  test('a passkey added in the account console signs in alone, without a username', async () => {
    await page.goto(`${server.issuer}/account/factors`);
    await signInWithPassword();
    await page.click('#factor-passkey button[type=submit]');
    await page.waitForURL(/\/account\/factors\/passkey\/setup\//);
    await page.fill('#passkey-name', 'Work laptop');
    await screenshot(page, SUITE, '01-console-add');
    await page.click('#passkey-start');
    await landsOn(/\/account\/factors\?done=enrolled$/, '02-console-added');
    const listed = (await page.textContent('#factor-passkey'))!;
    assert.match(listed, /Work laptop/);
    assert.match(listed, /device-bound passkey/);
    assert.match(listed, /last used never/);
    await screenshot(page, SUITE, '02-console-listed');
    await page.fill('#factor-passkey .credential input[name=name]', 'Laptop');
    await page.click('#factor-passkey .credential form.inline button');
    await landsOn(/\/account\/factors\?done=renamed$/, '02-renamed');
    assert.equal(await page.textContent('#factor-passkey .credential-name'), 'Laptop');

    // Signed out, the application asks for a passkey: no username, the credential tells who it is.
    await signOut();
    const verifier = await startAtApplication(ACR.passkey);
    const claims = await backAtApplication(verifier, '03-usernameless', () => usePasskey(/Sign in with a passkey/));
    assert.equal(claims.sub, accountId);
    assert.deepEqual(claims.amr, ['hwk', 'user']);
    assert.equal(claims.acr, ACR.passkey);
  });

  test('a passkey as the second factor after a password, and as a step-up of a password session', async () => {
    await signOut();
    let verifier = await startAtApplication(ACR.both);
    await signInWithPassword();
    let claims = await backAtApplication(verifier, '04-second-factor', () => usePasskey(/Confirm with your passkey/));
    assert.deepEqual(claims.amr, ['pwd', 'hwk', 'user']);
    assert.equal(claims.acr, ACR.both);

    await signOut();
    verifier = await startAtApplication(ACR.password);
    claims = await backAtApplication(verifier, '05-password-only', signInWithPassword);
    assert.deepEqual(claims.amr, ['pwd']);
    // The same session asks for more: only the passkey is asked, the password counts from the session.
    verifier = await startAtApplication(ACR.both);
    claims = await backAtApplication(verifier, '06-step-up', () => usePasskey(/Confirm with your passkey/));
    assert.deepEqual(claims.amr, ['pwd', 'hwk', 'user']);
    assert.equal(claims.acr, ACR.both);
  });

  test('an assertion made on another origin is refused and audited', async () => {
    await signOut();
    await startAtApplication(ACR.passkey);
    await page.waitForSelector('#passkey-start');
    const signInPage = page.url();
    const options = JSON.parse((await page.getAttribute('#passkey-form', 'data-options'))!) as { challenge: string };
    // Another site (same RP ID, another origin) has the authenticator sign this sign-in's challenge.
    await page.goto(`${OTHER_ORIGIN}/`);
    const foreign = await page.evaluate(`(async (challenge) => {
      const bytes = (b64url) => Uint8Array.from(atob(b64url.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
      const text = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
      const credential = await navigator.credentials.get({ publicKey: { challenge: bytes(challenge), rpId: 'localhost', userVerification: 'preferred' } });
      const r = credential.response;
      return JSON.stringify({ id: credential.id, rawId: text(credential.rawId), type: 'public-key', clientExtensionResults: {},
        response: { clientDataJSON: text(r.clientDataJSON), authenticatorData: text(r.authenticatorData), signature: text(r.signature), userHandle: r.userHandle ? text(r.userHandle) : undefined } });
    })(${JSON.stringify(options.challenge)})`);
    // Posted to the step through the sign-in's own page, as a relaying attacker would.
    await page.goto(signInPage);
    await page.waitForSelector('#passkey-form');
    await page.evaluate(`(() => { const f = document.getElementById('passkey-form'); f.elements.response.value = ${JSON.stringify(foreign)}; f.submit(); })()`);
    await page.waitForSelector('#passkey-error:not([hidden])');
    assert.match((await page.textContent('#passkey-error'))!, /made for another website/);
    await screenshot(page, SUITE, '07-wrong-origin');
    await server.services.audit.flush();
    const events = await server.services.audit.query({ type: 'login.failed' });
    assert.ok(events.some((e) => e.details?.step === 'passkey' && e.details.reason === 'wrong_origin'), 'the refusal is audited');
  });

  test('a passkey removed in the console (after re-authenticating with it) no longer signs in', async () => {
    await signOut();
    await page.goto(`${server.issuer}/account/factors`);
    await signInWithPassword();
    await page.waitForSelector('#factor-passkey .credential');
    // The console session is older than the re-authentication window: removing needs a fresh sign-in,
    // which must include a second method (the passkey itself, the only one there is).
    await new Promise((r) => setTimeout(r, (REAUTH_SECONDS + 1) * 1000));
    await page.click('#factor-passkey .credential button.danger');
    await signInWithPassword();
    await usePasskey(/Confirm with your passkey/);
    await landsOn(/\/account\/factors$/, '08-reauthenticated');
    await page.click('#factor-passkey .credential button.danger');
    await landsOn(/\/account\/factors\?done=removed$/, '08-removed');
    assert.equal(await page.locator('#factor-passkey .credential').count(), 0);
    assert.equal(await page.textContent('#factor-passkey .badge'), 'not set up');

    // The authenticator still holds the passkey; the server no longer knows it.
    await signOut();
    await startAtApplication(ACR.passkey);
    await usePasskey(/Sign in with a passkey/);
    await page.waitForSelector('#passkey-error:not([hidden])');
    assert.match((await page.textContent('#passkey-error'))!, /not registered/);
    await screenshot(page, SUITE, '09-removed-refused');
  });

  // Last: a second passkey in the authenticator would be a choice for the usernameless sign-ins above.
  test('a flow that allows set-up at sign-in creates the missing passkey there, and counts it', async () => {
    await signOut();
    await server.services.accounts.create({ username: 'quinn', password: PASSWORD });
    const verifier = await startAtApplication(ACR.enrol);
    await signInWithPassword('quinn');
    await page.waitForSelector('#passkey-name');
    assert.match((await page.textContent('h1')) ?? '', /Add a passkey/);
    const claims = await backAtApplication(verifier, '10-enrol-at-sign-in', () => page.click('#passkey-start'));
    assert.deepEqual(claims.amr, ['pwd', 'hwk', 'user']);
  });
});
