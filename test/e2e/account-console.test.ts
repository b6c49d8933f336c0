import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as oidc from 'openid-client';
import { generate } from 'otplib';
import { TotpCredentials } from '../../src/steps/totp/totp-credentials.js';
import { Browser, type Page } from '../support/browser.js';
import { alertOf, authorize } from '../support/interactive.js';
import { discoverRp, loginWithPassword, type RpClient } from '../support/rp.js';
import { describeOnEachBackend, type SuiteContext } from '../support/suite.js';

const REAUTH_SECONDS = 3;
let password = 'correct horse battery staple';
let rp: RpClient;
let carolId = '';

const isLoginPage = (page: Page) => page.url.includes('/interaction/') && page.html.includes('name="password"');
const noticeOf = (page: Page) => /<p class="notice"[^>]*>([^<]*)</.exec(page.html)?.[1]?.replace(/&#x27;/g, "'");

/** Opens the console in a new browser and signs in with the password. */
async function signIn(issuer: string, browser = new Browser(issuer), creds = { username: 'carol', password }) {
  const login = await browser.request('/account');
  assert.ok(isLoginPage(login), `expected the sign-in page, got ${login.status} ${login.url}`);
  const home = await browser.submit(login, '/step/password', creds);
  assert.equal(home.status, 200);
  assert.match(home.html, /Your account/);
  return { browser, home };
}

/**
 * Submits a console form; when the console asks for a fresh sign-in first (the window is short in
 * this suite), signs in again and submits the form on the page it comes back to.
 */
async function submitFresh(browser: Browser, page: Page, action: string, fields: Record<string, string> = {}, creds = { username: 'carol', password }, recoveryCode?: string) {
  const next = await browser.submit(page, action, fields);
  if (!isLoginPage(next)) return next;
  let back = await browser.submit(next, '/step/password', creds);
  // With TOTP set up, the fresh sign-in asks for a second factor too.
  if (back.url.includes('/interaction/')) {
    assert.ok(recoveryCode, `the fresh sign-in asked for more: ${back.html.slice(0, 200)}`);
    back = await browser.submit(back, '/step/totp', { code: recoveryCode });
  }
  // The form is sent again from the original page (the page signed in to may no longer show it),
  // with the CSRF token of the renewed console session.
  const csrf = /name="csrf" value="([^"]+)"/.exec(back.html)?.[1];
  return browser.submit(page, action, { ...fields, ...(csrf ? { csrf } : {}) });
}

async function eventsOf(ctx: SuiteContext, type: string) {
  await ctx.server.services.audit.flush();
  return ctx.server.services.audit.query({ subject: carolId, type });
}

describeOnEachBackend(
  'account console',
  (ctx) => {
    let browser: Browser;
    let ssoBrowser: Browser;

    test('unauthenticated requests are sent to sign in through /auth as the built-in client', async () => {
      const res = await fetch(`${ctx().server.issuer}/account/profile`, { redirect: 'manual' });
      assert.equal(res.status, 303);
      const to = new URL(res.headers.get('location')!, ctx().server.issuer);
      assert.equal(to.pathname, '/auth');
      assert.equal(to.searchParams.get('client_id'), 'tessera-account');
      assert.equal(to.searchParams.get('code_challenge_method'), 'S256');
      const post = await fetch(`${ctx().server.issuer}/account/password`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ current_password: 'x' }) });
      assert.equal(post.status, 303);
      assert.match(post.headers.get('location')!, /^\/auth\?/);
      // A forged or replayed callback is refused.
      const forged = await new Browser(ctx().server.issuer).request('/account/callback?code=abc&state=def');
      assert.equal(forged.status, 400);
    });

    test('sign-in re-uses the provider session (SSO) and comes back to the page asked for', async () => {
      ssoBrowser = (await loginWithPassword(rp, ctx().server.issuer, { username: 'carol', password })).browser;
      const page = await ssoBrowser.request('/account/profile');
      assert.equal(page.status, 200, 'no password asked: the RP sign-in session is re-used');
      assert.match(page.html, /Your profile/);
      assert.match(page.html, /value="carol"[^>]*readonly/);
      browser = (await signIn(ctx().server.issuer)).browser;
    });

    test('profile: name and email change; a new email is unverified', async () => {
      const page = await browser.request('/account/profile');
      const bad = await browser.submit(page, '/account/profile', { name: 'Carol C', email: 'not-an-email' });
      assert.equal(bad.status, 400);
      assert.match(alertOf(bad)!, /valid email/);
      const saved = await browser.submit(page, '/account/profile', { name: 'Carol Changed', email: 'carol@new.example' });
      assert.equal(saved.status, 200);
      assert.equal(noticeOf(saved), 'Your profile was saved.');
      const account = await ctx().server.services.accounts.findById(carolId);
      assert.equal(account?.name, 'Carol Changed');
      assert.equal(account?.email, 'carol@new.example');
      assert.equal(account?.emailVerified, false);
      const [event] = await eventsOf(ctx(), 'account.profile_updated');
      assert.deepEqual(event?.details, { fields: ['name', 'email'] });
    });

    test('forms without a valid CSRF token are refused and change nothing', async () => {
      const page = await browser.request('/account/profile');
      const forged = await browser.submit(page, '/account/profile', { name: 'Mallory', csrf: 'forged' });
      assert.equal(forged.status, 403);
      const bare = await browser.request('/account/profile', { form: { name: 'Mallory' } });
      assert.equal(bare.status, 403);
      assert.equal((await ctx().server.services.accounts.findById(carolId))?.name, 'Carol Changed');
    });

    test('bad input gets the right status and a readable page, and the server keeps serving', async () => {
      const page = await browser.request('/account/profile');
      const csrf = /name="csrf" value="([^"]+)"/.exec(page.html)![1]!;
      const post = (path: string, body: string, type = 'application/x-www-form-urlencoded') =>
        fetch(`${ctx().server.issuer}${path}`, { method: 'POST', redirect: 'manual', headers: { cookie: cookieHeader(browser), 'content-type': type, accept: 'text/html' }, body });
      assert.equal((await post('/account/profile', JSON.stringify({ name: 'x' }), 'application/json')).status, 415);
      assert.equal((await post('/account/profile', `csrf=${csrf}&name=${'x'.repeat(20_000)}`)).status, 413);
      const long = await post('/account/profile', `csrf=${encodeURIComponent(csrf)}&name=${'x'.repeat(300)}`);
      assert.equal(long.status, 400);
      assert.match(await long.text(), /at most 256 characters/);
      const unknown = await post('/account/factors/nope/enroll', `csrf=${encodeURIComponent(csrf)}`);
      assert.equal(unknown.status, 404);
      assert.match(await unknown.text(), /no such sign-in method/);
      assert.equal((await browser.request('/account/factors/totp/setup/not-an-id')).status, 404);
      assert.equal((await post('/account/clients/tessera-account/revoke', `csrf=${encodeURIComponent(csrf)}`)).status, 404);
      assert.equal((await browser.request('/account/activity.xml')).status, 404);
      assert.equal((await ctx().server.services.accounts.findById(carolId))?.name, 'Carol Changed');
      assert.equal((await browser.request('/account/profile')).status, 200);
    });

    test('password: the current one is checked, the new one validated; the new one signs in', async () => {
      const page = await browser.request('/account/password');
      const fields = (current: string, next: string, confirm = next) => ({ current_password: current, new_password: next, confirm_password: confirm });
      const wrong = await submitFresh(browser, page, '/account/password', fields('not my password', 'a brand new passphrase'));
      assert.equal(wrong.status, 401);
      assert.match(alertOf(wrong)!, /current password is not correct/);
      const short = await submitFresh(browser, wrong, '/account/password', fields(password, 'short'));
      assert.equal(short.status, 400);
      const leaked = await submitFresh(browser, short, '/account/password', fields(password, 'Teleseti83'));
      assert.equal(leaked.status, 400);
      assert.match(alertOf(leaked)!, /appears in lists of leaked passwords/);
      const mismatch = await submitFresh(browser, leaked, '/account/password', fields(password, 'a brand new passphrase', 'something else'));
      assert.equal(mismatch.status, 400);
      const done = await submitFresh(browser, mismatch, '/account/password', { ...fields(password, 'a brand new passphrase'), sign_out_others: 'yes' });
      assert.equal(noticeOf(done), 'Your password was changed.');
      assert.ok(isLoginPage(await ssoBrowser.request('/account')), 'other sessions were signed out');
      assert.match((await browser.request('/account')).html, /Your account/, 'this one was kept');
      const old = password;
      password = 'a brand new passphrase';
      await assert.rejects(loginWithPassword(rp, ctx().server.issuer, { username: 'carol', password: old }));
      await loginWithPassword(rp, ctx().server.issuer, { username: 'carol', password });
      const events = await eventsOf(ctx(), 'account.password_changed');
      assert.deepEqual(
        events.map((e) => [e.outcome, e.details?.reason]),
        [['success', undefined], ['failure', 'password_breached'], ['failure', 'password_too_short'], ['failure', 'wrong_password']],
      );
      assert.ok(!JSON.stringify(events).includes(password), 'no password in the audit trail');
    });

    test('wrong current passwords count toward the account lockout', async () => {
      const frank = { username: 'frank', password: 'frank has a long passphrase' };
      const { browser: b } = await signIn(ctx().server.issuer, undefined, frank);
      let page = await b.request('/account/password');
      const statuses: number[] = [];
      while (statuses.length < 6 && page.status !== 429) {
        page = await submitFresh(b, page, '/account/password', { current_password: 'guess', new_password: 'another passphrase', confirm_password: 'another passphrase' }, frank);
        statuses.push(page.status);
      }
      assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429].slice(0, statuses.length));
      assert.equal(statuses.at(-1), 429);
      const right = await b.submit(page, '/account/password', { current_password: frank.password, new_password: 'another passphrase', confirm_password: 'another passphrase' });
      assert.equal(right.status, 429, 'even the right password is refused while locked');
      assert.ok(right.headers.get('retry-after'));
      // The same counters guard the sign-in page.
      await assert.rejects(loginWithPassword(rp, ctx().server.issuer, frank));
    });

    test('TOTP: enrolled and removed through the console; recovery codes regenerated', async () => {
      const list = await browser.request('/account/factors');
      assert.match(list.html, /Authenticator app/);
      assert.match(list.html, /id="factor-password"[\s\S]*?set up/);
      const enroll = await submitFresh(browser, list, '/account/factors/totp/enroll');
      assert.match(enroll.url, /\/account\/factors\/totp\/setup\/[A-Za-z0-9_-]{32}$/);
      const secret = /<code id="manual-key"[^>]*>([^<]*)</.exec(enroll.html)![1]!.replace(/\s+/g, '');
      const code = await generate({ secret });
      const action = new URL(enroll.url).pathname;
      const wrong = await browser.submit(enroll, action, { code: String((Number(code) + 1) % 1_000_000).padStart(6, '0') });
      assert.equal(wrong.status, 401);
      // Capture scripts post with Accept: application/json and get the outcome as data.
      const csrf = /name="csrf" value="([^"]+)"/.exec(wrong.html)![1]!;
      const asJson = await browser.request(action, { form: { csrf, code: '000000' }, headers: { accept: 'application/json' } });
      assert.equal(asJson.status, 401);
      assert.deepEqual(JSON.parse(asJson.html), { ok: false, status: 401, message: 'That code is not correct. Check the time on your phone and try the current code.' });
      const codesPage = await browser.submit(wrong, action, { code });
      const codes = [...codesPage.html.matchAll(/<li><code>([A-Z0-9-]+)<\/code><\/li>/g)].map((m) => m[1]!);
      assert.equal(codes.length, 10);
      assert.match(codesPage.html, /href="\/account\/factors"/);
      const enrolled = await browser.request('/account/factors');
      assert.match(enrolled.html, /id="factor-totp"[\s\S]*?set up<\/span>[\s\S]*?Get new recovery codes[\s\S]*?Remove/);

      const regenerated = await submitFresh(browser, enrolled, '/account/factors/totp/actions/recovery-codes', {}, undefined, codes[5]);
      const fresh = [...regenerated.html.matchAll(/<li><code>([A-Z0-9-]+)<\/code><\/li>/g)].map((m) => m[1]!);
      assert.equal(fresh.length, 10);
      const store = TotpCredentials.forMasterKey(ctx().server.services.db, ctx().server.services.masterKey.key);
      assert.equal(await store.useRecoveryCode(carolId, codes[0]!), false, 'the old codes stopped working');
      assert.equal(await store.useRecoveryCode(carolId, fresh[0]!), true);
      assert.equal((await eventsOf(ctx(), 'credential.recovery_codes_issued')).length, 1);

      const removed = await submitFresh(browser, await browser.request('/account/factors'), '/account/factors/totp/remove', {}, undefined, fresh[5]);
      assert.equal(noticeOf(removed), 'The sign-in method was removed.');
      assert.match(removed.html, /id="factor-totp"[\s\S]*?not set up/);
      assert.equal(await store.exists(carolId), false);
      assert.equal(await store.remainingRecoveryCodes(carolId), 0);
    });

    test('sessions: listed with the current one marked; revoking one signs that browser out', async () => {
      const other = await signIn(ctx().server.issuer);
      const sessionsOn = async (b: Browser) => {
        const page = await b.request('/account/sessions');
        return { page, sessions: [...page.html.matchAll(/<li class="session">([\s\S]*?)<\/li>/g)].map((m) => m[1]!) };
      };
      const { page, sessions } = await sessionsOn(browser);
      assert.ok(sessions.length >= 2, `sessions listed: ${sessions.length}`);
      assert.equal(sessions.filter((s) => s.includes('this browser')).length, 1);
      assert.doesNotMatch(page.html, new RegExp(other.browser.cookie('_session')!), 'session ids (cookie values) never appear');
      // The other browser's own list marks its session; revoke that one from here.
      const mine = (await sessionsOn(other.browser)).sessions.find((s) => s.includes('this browser'))!;
      const action = /action="([^"]+)"/.exec(mine)![1]!;
      assert.ok(sessions.some((s) => s.includes(action) && !s.includes('this browser')));
      const revoked = await submitFresh(browser, page, action);
      assert.equal(noticeOf(revoked), 'The session was signed out.');
      const again = await other.browser.request('/account');
      assert.ok(isLoginPage(again), 'the revoked browser has to sign in again');
      assert.equal((await eventsOf(ctx(), 'account.session_revoked')).length, 1);
    });

    test("applications: listed and revoked; the RP's refresh token stops working", async () => {
      const { tokens } = await loginWithPassword(rp, ctx().server.issuer, { username: 'carol', password }, { scope: 'openid offline_access', extra: { prompt: 'consent' } });
      assert.ok(tokens.refresh_token);
      const page = await browser.request('/account/sessions');
      assert.match(page.html, /<strong>Console RP<\/strong>/);
      assert.doesNotMatch(page.html, /<li class="client">[\s\S]*Account console/, 'the console itself is not listed');
      const revoked = await submitFresh(browser, page, `/account/clients/${rp.config.clientMetadata().client_id}/revoke`);
      assert.equal(noticeOf(revoked), "The application's access was revoked.");
      assert.doesNotMatch(revoked.html, /<strong>Console RP<\/strong>/);
      await assert.rejects(oidc.refreshTokenGrant(rp.config, tokens.refresh_token!), (err: oidc.ResponseBodyError) => err.error === 'invalid_grant');
      const missing = await submitFresh(browser, page, `/account/clients/${rp.config.clientMetadata().client_id}/revoke`);
      assert.equal(missing.status, 404);
    });

    test('activity download: the account’s own events as JSON and CSV attachments', async () => {
      // Another user's failures must not show up in carol's history.
      const dave = await authorize(rp, new Browser(ctx().server.issuer));
      await new Browser(ctx().server.issuer).submit(dave.page, '/step/password', { username: 'dave', password: 'wrong password' }).catch(() => undefined);
      await ctx().server.services.audit.flush();
      const res = await fetch(`${ctx().server.issuer}/account/activity.json`, { headers: { cookie: cookieHeader(browser) } });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-disposition')!, /^attachment; filename="tessera-activity-carol\.json"$/);
      const body = (await res.json()) as { account: { username: string }; events: { type: string; outcome: string }[] };
      assert.equal(body.account.username, 'carol');
      const types = new Set(body.events.map((e) => e.type));
      for (const t of ['account.profile_updated', 'account.password_changed', 'credential.enrolled', 'credential.removed', 'account.client_revoked', 'login.succeeded']) assert.ok(types.has(t), t);
      const daveId = (await ctx().server.services.accounts.findByUsername('dave'))!.id;
      assert.ok(!JSON.stringify(body).includes(daveId));
      const csv = await fetch(`${ctx().server.issuer}/account/activity.csv`, { headers: { cookie: cookieHeader(browser) } });
      assert.match(csv.headers.get('content-type')!, /^text\/csv/);
      const lines = (await csv.text()).trim().split('\r\n');
      assert.equal(lines[0], 'id,at,type,outcome,client_id,ip,user_agent,details');
      assert.equal(lines.length, body.events.length + 1 + 1, 'every event, plus the JSON export itself, plus the header');
    });

    test('a sensitive change needs a fresh sign-in once the window has passed, then comes back', async () => {
      await new Promise((r) => setTimeout(r, (REAUTH_SECONDS + 1.2) * 1000));
      // Non-sensitive pages never ask.
      assert.match((await browser.request('/account/profile')).html, /Your profile/);
      const stale = await browser.submit(await browser.request('/account/factors'), '/account/factors/totp/enroll');
      assert.ok(isLoginPage(stale), 'asked to sign in again even though the session is alive');
      const page = await browser.request('/account/password');
      assert.ok(isLoginPage(page));
      const back = await browser.submit(page, '/step/password', { username: 'carol', password });
      assert.equal(new URL(back.url).pathname, '/account/password');
      assert.match(back.html, /name="current_password"/);
    });

    test('signing out of the console ends the provider session', async () => {
      const home = await browser.request('/account');
      const confirm = await browser.submit(home, '/account/logout');
      assert.match(confirm.html, /Sign out\?/);
      const out = await browser.submit(confirm, '/session/end/confirm', { logout: 'yes' });
      assert.match(out.html, /Signed out/);
      assert.ok(isLoginPage(await browser.request('/account')));
      const sso = await authorize(rp, browser);
      assert.ok(isLoginPage(sso.page), 'relying parties need a new sign-in as well');
    });
  },
  {
    env: { TESSERA_ACCOUNT_REAUTH_SECONDS: String(REAUTH_SECONDS) },
    async setup({ server }) {
      password = 'correct horse battery staple';
      carolId = (await server.services.accounts.create({ username: 'carol', email: 'carol@example.com', emailVerified: true, name: 'Carol', password })).id;
      await server.services.accounts.create({ username: 'dave', password: 'another long passphrase' });
      await server.services.accounts.create({ username: 'frank', password: 'frank has a long passphrase' });
      const c = await server.services.clients.create({ name: 'Console RP', redirectUris: ['http://127.0.0.1:9/callback'], firstParty: true });
      rp = await discoverRp(server.issuer, c.client.clientId, { secret: c.secret });
    },
  },
);

function cookieHeader(browser: Browser): string {
  return ['tessera.account', 'tessera.csrf'].flatMap((n) => (browser.cookie(n) ? [`${n}=${browser.cookie(n)}`] : [])).join('; ');
}
