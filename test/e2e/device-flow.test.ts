import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generate } from 'otplib';
import * as oidc from 'openid-client';
import { DEVICE_CODE_GRANT } from '../../src/oidc/features/device-flow.js';
import { sqliteBackend, type Backend } from '../support/backends.js';
import { Browser, type Page } from '../support/browser.js';
import { connectAdminApi } from '../support/admin-api.js';
import { launchChromium, screenshot } from '../support/chromium.js';
import { alertOf } from '../support/interactive.js';
import { countRecords } from '../support/records.js';
import { discoverRp } from '../support/rp.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { describeOnEachBackend } from '../support/suite.js';

const PASSWORD = 'correct horse battery staple';
const MFA = 'urn:tessera:acr:mfa';
const DEVICE_ENV = { TESSERA_DEVICE_FLOW: 'true', TESSERA_DEVICE_POLL_INTERVAL: '1' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A device client (public, as a headset app or a TV app is), driven by openid-client. */
async function deviceClient(server: TestServer, name: string): Promise<oidc.Configuration> {
  const { client } = await server.services.clients.create({ name, grantTypes: [DEVICE_CODE_GRANT, 'refresh_token'], authMethod: 'none' });
  return (await discoverRp(server.issuer, client.clientId, {})).config;
}

/** One poll, as a device that ignores the interval would send it; the token endpoint's error code, or 'tokens'. */
async function pollOnce(device: oidc.Configuration, deviceCode: string): Promise<string> {
  try {
    await oidc.genericGrantRequest(device, DEVICE_CODE_GRANT, { device_code: deviceCode });
    return 'tokens';
  } catch (err) {
    return (err as { error?: string }).error ?? String(err);
  }
}

/** The user types the code on the verification page; returns the page that follows (the confirmation). */
async function enterCode(browser: Browser, authorization: oidc.DeviceAuthorizationResponse, code = authorization.user_code): Promise<Page> {
  const form = await browser.request(authorization.verification_uri);
  assert.equal(form.status, 200);
  assert.match(form.html, /Enter the code shown on your device/);
  return browser.submit(form, '/device', { user_code: code });
}

const auditOf = async (server: TestServer, type: string) => server.services.audit.query({ type });

describeOnEachBackend(
  'device authorization grant (RFC 8628)',
  (ctx) => {
    let tv: oidc.Configuration;
    let headset: oidc.Configuration;

    before(async () => {
      tv = await deviceClient(ctx().server, 'Living-room TV');
      headset = await deviceClient(ctx().server, 'EEG headset');
    });

    test('the admin API registers a device client and moves a client to the grant', async () => {
      const { server } = ctx();
      const { api } = await connectAdminApi(server);
      const created = await api.call('post', '/clients', { body: { name: 'Kiosk', authMethod: 'none', grantTypes: [DEVICE_CODE_GRANT] } });
      assert.equal(created.status, 201);
      assert.deepEqual(created.body.client.metadata.grant_types, [DEVICE_CODE_GRANT]);
      assert.deepEqual(created.body.client.metadata.response_types, []);
      const web = await api.call('post', '/clients', { body: { name: 'Web', redirectUris: ['http://127.0.0.1:9/cb'] } });
      const moved = await api.call('patch', `/clients/${web.body.client.clientId}`, { body: { grantTypes: [DEVICE_CODE_GRANT, 'refresh_token'] } });
      assert.equal(moved.status, 200);
      assert.deepEqual(moved.body.metadata.grant_types, [DEVICE_CODE_GRANT, 'refresh_token']);
      assert.deepEqual(moved.body.metadata.response_types, []);
      const config = (await discoverRp(server.issuer, web.body.client.clientId, { secret: web.body.clientSecret })).config;
      const authorization = await oidc.initiateDeviceAuthorization(config, { scope: 'openid' });
      assert.equal(await pollOnce(config, authorization.device_code), 'authorization_pending');
    });

    test('discovery advertises the device authorization endpoint and grant', async () => {
      const meta = (await (await fetch(`${ctx().server.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      assert.equal(meta.device_authorization_endpoint, `${ctx().server.issuer}/device/auth`);
      assert.ok((meta.grant_types_supported as string[]).includes(DEVICE_CODE_GRANT));
    });

    test('password flow: the user enters the code, confirms, signs in and allows; the device gets tokens', async () => {
      const { server } = ctx();
      const authorization = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid profile' });
      assert.match(authorization.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
      assert.equal(authorization.verification_uri, `${server.issuer}/device`);
      assert.equal(authorization.interval, 1);
      const polling = oidc.pollDeviceAuthorizationGrant(tv, authorization);
      const browser = new Browser(server.issuer);
      // Typed as people do: lower case, without the dash.
      const confirm = await enterCode(browser, authorization, authorization.user_code.replace('-', '').toLowerCase());
      assert.equal(confirm.status, 200);
      assert.match(confirm.html, /Living-room TV/);
      assert.match(confirm.html, new RegExp(`<code>${authorization.user_code}</code>`));
      assert.match(confirm.html, /Device address<\/dt><dd><code>127\.0\.0\.1</, "the device request's address");
      assert.match(confirm.html, /openid-client\//, "the device's user agent");
      const login = await browser.submit(confirm, '/device');
      assert.match(login.url, /\/interaction\//, 'the normal sign-in follows');
      const consent = await browser.submit(login, '/step/password', { username: 'dana', password: PASSWORD });
      assert.match(consent.html, /Living-room TV<\/strong> is asking to/);
      const done = await browser.submit(consent, '/consent');
      assert.equal(done.status, 200);
      assert.match(done.html, /Device signed in/);
      const tokens = await polling;
      const claims = tokens.claims()!;
      assert.deepEqual(claims.amr, ['pwd']);
      assert.equal(claims.acr, 'urn:tessera:acr:password');
      assert.equal(claims.sub, (await server.services.accounts.findByUsername('dana'))!.id);
      const userinfo = await oidc.fetchUserInfo(tv, tokens.access_token, claims.sub);
      assert.equal(userinfo.preferred_username, 'dana');
      const [authorized] = await auditOf(server, 'device.authorized');
      assert.equal(authorized!.subject, claims.sub);
      assert.equal(authorized!.details!.device_ip, '127.0.0.1');
      // The code is spent: entering it again is refused.
      const again = await enterCode(new Browser(server.issuer), authorization);
      assert.equal(again.status, 410);
      assert.match(alertOf(again)!, /already been used/);
    });

    test('any steps: acr_values at the device request ask for password then TOTP (set up at sign-in)', async () => {
      const { server } = ctx();
      const authorization = await oidc.initiateDeviceAuthorization(headset, { scope: 'openid', acr_values: MFA });
      const polling = oidc.pollDeviceAuthorizationGrant(headset, authorization);
      const browser = new Browser(server.issuer);
      // verification_uri_complete carries the code: the page posts it by itself (no typing).
      const posting = await browser.request(authorization.verification_uri_complete!);
      const confirm = await browser.submit(posting, '/device');
      assert.match(confirm.html, /EEG headset/);
      const login = await browser.submit(confirm, '/device');
      const enroll = await browser.submit(login, '/step/password', { username: 'dana', password: PASSWORD });
      assert.match(enroll.html, /Set up two-step verification/);
      const secret = /<code id="manual-key"[^>]*>([^<]*)</.exec(enroll.html)![1]!.replace(/\s+/g, '');
      const codes = await browser.submit(enroll, '/enroll/totp', { code: await generate({ secret }) });
      const next = /href="([^"]+)"/.exec(codes.html.slice(codes.html.indexOf('class="button"') - 200))![1]!;
      const consent = await browser.request(next);
      const done = await browser.submit(consent, '/consent');
      assert.match(done.html, /Device signed in/);
      const claims = (await polling).claims()!;
      assert.deepEqual(claims.amr, ['pwd', 'otp']);
      assert.equal(claims.acr, MFA);
    });

    test('polling faster than the interval is answered slow_down; after the interval, pending again', async () => {
      const authorization = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid' });
      assert.equal(await pollOnce(tv, authorization.device_code), 'authorization_pending');
      assert.equal(await pollOnce(tv, authorization.device_code), 'slow_down');
      assert.equal(await pollOnce(tv, authorization.device_code), 'slow_down');
      await sleep(1100);
      assert.equal(await pollOnce(tv, authorization.device_code), 'authorization_pending');
    });

    test('the user refuses: on the confirmation page, or by cancelling the sign-in; the device gets access_denied', async () => {
      const { server } = ctx();
      for (const refuse of ['confirmation', 'sign-in'] as const) {
        const authorization = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid' });
        const polling = oidc.pollDeviceAuthorizationGrant(tv, authorization).then(
          () => 'tokens',
          (err: { error?: string }) => err.error,
        );
        const browser = new Browser(server.issuer);
        const confirm = await enterCode(browser, authorization);
        const ended =
          refuse === 'confirmation'
            ? await browser.submit(confirm, '/device', { abort: 'yes' })
            : await browser.submit(await browser.submit(confirm, '/device'), '/abort');
        assert.equal(ended.status, 200, refuse);
        assert.match(ended.html, /the device was not signed in/, refuse);
        assert.equal(await polling, 'access_denied', refuse);
      }
      assert.equal((await auditOf(server, 'device.denied')).length, 2);
    });

    test('the code form needs its own page: a post without the xsrf field is refused and the code stays usable', async () => {
      const { server } = ctx();
      const authorization = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid' });
      const forged = await new Browser(server.issuer).request('/device', { form: { user_code: authorization.user_code } });
      assert.equal(forged.status, 400);
      assert.match(alertOf(forged)!, /not sent by this site/);
      assert.match(forged.html, /<a class="button" href="[^"]*\/device">/, 'a way to the real page');
      assert.equal(await pollOnce(tv, authorization.device_code), 'authorization_pending');
      const confirm = await enterCode(new Browser(server.issuer), authorization);
      assert.match(confirm.html, /Sign in this device\?/);
    });

    test('a code looked up more than 5 times is refused (429), audited once', async () => {
      const { server } = ctx();
      const authorization = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid' });
      const browser = new Browser(server.issuer);
      for (let i = 0; i < 5; i++) assert.equal((await enterCode(browser, authorization)).status, 200);
      for (let i = 0; i < 2; i++) {
        const refused = await enterCode(browser, authorization);
        assert.equal(refused.status, 429);
        assert.match(alertOf(refused)!, /Too many attempts/);
      }
      const locks = (await auditOf(server, 'device.locked_out')).filter((e) => e.details!.scope === 'code');
      assert.equal(locks.length, 1);
    });

    // Last: it locks this suite's only source address for the window.
    test('wrong codes: readable page, audited without the code, nothing stored; then the address is locked, even for a right code', async () => {
      const { server } = ctx();
      const authorization = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid' });
      const browser = new Browser(server.issuer);
      const before = (await auditOf(server, 'device.code_rejected')).length;
      const first = await enterCode(browser, authorization, 'BBBB-BBBB');
      assert.equal(first.status, 404);
      assert.match(alertOf(first)!, /not valid/);
      assert.match(first.html, /value="BBBB-BBBB"/, 'the entry is kept for correction');
      const rejected = await auditOf(server, 'device.code_rejected');
      assert.equal(rejected.length, before + 1);
      assert.deepEqual(rejected[0]!.details, { reason: 'not_found' });
      assert.ok(!JSON.stringify(rejected[0]).includes('BBBB'), 'no code value in the audit log');
      const stored = await countRecords(server);
      let page = first;
      // Misses so far in this suite: the spent code entered again, the forged post and this one; the limit is 10 per address.
      for (let i = 0; i < 6; i++) {
        page = await browser.submit(page, '/device', { user_code: `BBBB-BBB${'CDFGHJKL'[i]}` });
        assert.equal(page.status, 404);
      }
      assert.equal(await countRecords(server), stored, 'a wrong code stores nothing');
      const locking = await browser.submit(page, '/device', { user_code: 'CCCC-CCCC' });
      assert.equal(locking.status, 429);
      assert.match(alertOf(locking)!, /Too many attempts/);
      assert.ok(Number(locking.headers.get('retry-after')) > 0);
      assert.equal((await auditOf(server, 'device.locked_out'))[0]!.details!.scope, 'ip');
      const right = await browser.request('/device', { form: { user_code: authorization.user_code } });
      assert.equal(right.status, 429, 'a right code from a locked address is refused too');
      assert.equal((await browser.request('/device')).status, 429);
      assert.equal(await pollOnce(tv, authorization.device_code), 'authorization_pending', 'and it was not looked up');
    });
  },
  {
    env: DEVICE_ENV,
    async setup({ server }) {
      await server.services.accounts.create({ username: 'dana', password: PASSWORD });
    },
  },
);

describe('device authorization grant: expiry, and the code page in Chromium (SQLite)', () => {
  let backend: Backend;
  let server: TestServer;

  before(async () => {
    backend = await sqliteBackend();
    server = await startTestServer(backend, { ...DEVICE_ENV, TESSERA_DEVICE_CODE_TTL: '1' });
  });

  after(async () => {
    await server?.stop();
    await backend?.dispose();
  });

  test('an expired device code: the device gets expired_token, the user a readable page', async () => {
    const device = await deviceClient(server, 'Old TV');
    const authorization = await oidc.initiateDeviceAuthorization(device, { scope: 'openid' });
    assert.equal(authorization.expires_in, 1);
    await sleep(1500);
    assert.equal(await pollOnce(device, authorization.device_code), 'expired_token');
    const page = await enterCode(new Browser(server.issuer), authorization);
    assert.equal(page.status, 410);
    assert.match(alertOf(page)!, /expired/);
    assert.equal((await server.services.audit.query({ type: 'device.code_rejected' }))[0]!.details!.reason, 'expired');
  });

  test('the code page in Chromium: styled, no script blocked, a typed code gets an answer page', async () => {
    const device = await deviceClient(server, 'Chromium TV');
    const authorization = await oidc.initiateDeviceAuthorization(device, { scope: 'openid' });
    const chromium = await launchChromium();
    try {
      const page = await (await chromium.newContext()).newPage();
      const problems: string[] = [];
      // Refusals answer 404/410 (and there is no favicon): the browser reports those; anything else (a CSP block) is a problem.
      page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && problems.push(m.text()));
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(authorization.verification_uri);
      assert.equal(await page.evaluate('getComputedStyle(document.getElementById("user_code")).textTransform'), 'uppercase', 'tessera.css applies');
      await screenshot(page, 'device-flow', '01-code');
      // The code has expired by now (1 s): the answer is the readable refusal, in the same look.
      await sleep(1000);
      await page.fill('#user_code', authorization.user_code.toLowerCase());
      await Promise.all([page.waitForURL(/\/device$/), page.click('button[type=submit]')]);
      assert.match((await page.locator('.alert').textContent())!, /expired/);
      await screenshot(page, 'device-flow', '02-expired');
      assert.deepEqual(problems, []);
    } finally {
      await chromium.close();
    }
  });
});
