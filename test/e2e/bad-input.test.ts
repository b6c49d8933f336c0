import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as oidc from 'openid-client';
import { Browser } from '../support/browser.js';
import { countRecords, expireRecord } from '../support/records.js';
import { postToken } from '../support/token-request.js';
import { discoverRp, loginWithPassword, type RpClient } from '../support/rp.js';
import { describeOnEachBackend } from '../support/suite.js';

const PASSWORD = 'correct horse battery staple';
const REDIRECT = 'http://127.0.0.1:9/callback';

let web: RpClient;
let webSecret: string;
let spa: RpClient;

const tokenRequest = (issuer: string, body: string, headers: Record<string, string> = {}) =>
  postToken(issuer, { id: web.config.clientMetadata().client_id, secret: webSecret }, body, headers);

async function codeFor(issuer: string, verifier: string): Promise<string> {
  const browser = new Browser(issuer);
  const url = oidc.buildAuthorizationUrl(web.config, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
  const page = await browser.submit(await browser.request(url.href), '/step/password', { username: 'dave', password: PASSWORD });
  return new URL(page.leftTo!).searchParams.get('code')!;
}

describeOnEachBackend(
  'bad input is refused clearly and stores nothing',
  (ctx) => {
    test('unknown client: readable error page, no redirect, nothing stored', async () => {
      const { server } = ctx();
      const before = await countRecords(server);
      const res = await fetch(`${server.issuer}/auth?client_id=nope&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(REDIRECT)}`, { redirect: 'manual', headers: { accept: 'text/html' } });
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('location'), null);
      const html = await res.text();
      assert.match(html, /invalid_client/);
      assert.match(html, /<title>/);
      assert.equal(await countRecords(server), before);
    });

    test('unregistered redirect_uri is never redirected to', async () => {
      const url = oidc.buildAuthorizationUrl(web.config, { redirect_uri: 'https://evil.example/cb', scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
      const res = await fetch(url, { redirect: 'manual', headers: { accept: 'text/html' } });
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('location'), null);
      assert.match(await res.text(), /redirect_uri/);
    });

    test('a public client without PKCE gets invalid_request back at its redirect URI', async () => {
      const { server } = ctx();
      const before = await countRecords(server);
      const url = oidc.buildAuthorizationUrl(spa.config, { redirect_uri: REDIRECT, scope: 'openid', state: 's1' });
      const res = await fetch(url, { redirect: 'manual' });
      assert.equal(res.status, 303);
      const location = new URL(res.headers.get('location')!);
      assert.equal(location.origin + location.pathname, REDIRECT);
      assert.equal(location.searchParams.get('error'), 'invalid_request');
      assert.match(location.searchParams.get('error_description')!, /PKCE/);
      assert.equal(location.searchParams.get('state'), 's1');
      assert.equal(await countRecords(server), before);
    });

    test('PKCE plain is not accepted', async () => {
      const url = oidc.buildAuthorizationUrl(spa.config, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' });
      const res = await fetch(url, { redirect: 'manual' });
      assert.equal(new URL(res.headers.get('location')!).searchParams.get('error'), 'invalid_request');
    });

    test('a wrong code_verifier is invalid_grant', async () => {
      const { server } = ctx();
      const code = await codeFor(server.issuer, oidc.randomPKCECodeVerifier());
      const res = await tokenRequest(server.issuer, new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: oidc.randomPKCECodeVerifier() }).toString());
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'invalid_grant');
    });

    test('an expired code is invalid_grant', async () => {
      const { server } = ctx();
      const verifier = oidc.randomPKCECodeVerifier();
      const code = await codeFor(server.issuer, verifier);
      await expireRecord(server, 'AuthorizationCode', code);
      const res = await tokenRequest(server.issuer, new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier }).toString());
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'invalid_grant');
    });

    test('malformed token requests: JSON body, broken encoding, duplicate parameters, unknown grant', async () => {
      const { server } = ctx();
      const json = await tokenRequest(server.issuer, '{"grant_type":"client_credentials"', { 'content-type': 'application/json' });
      assert.equal(json.status, 400);
      assert.equal(json.body.error, 'invalid_request');
      const dup = await tokenRequest(server.issuer, 'grant_type=authorization_code&grant_type=refresh_token');
      assert.equal(dup.status, 400);
      assert.equal(dup.body.error, 'invalid_request');
      const unknown = await tokenRequest(server.issuer, 'grant_type=password&username=a&password=b');
      assert.equal(unknown.status, 400);
      assert.equal(unknown.body.error, 'unsupported_grant_type');
    });

    test('oversize bodies are refused without being read whole', async () => {
      const { server } = ctx();
      const big = 'x='.concat('a'.repeat(200 * 1024));
      const token = await tokenRequest(server.issuer, big);
      assert.ok(token.status === 400 || token.status === 413, `status ${token.status}`);
      const browser = new Browser(server.issuer);
      const url = oidc.buildAuthorizationUrl(web.config, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
      const login = await browser.request(url.href);
      const page = await browser.submit(login, '/step/password', { username: 'dave', password: 'p'.repeat(40 * 1024) });
      assert.equal(page.status, 413);
    });

    test('login forms without a valid CSRF token are refused', async () => {
      const { server } = ctx();
      const browser = new Browser(server.issuer);
      const url = oidc.buildAuthorizationUrl(web.config, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
      const login = await browser.request(url.href);
      const page = await browser.submit(login, '/step/password', { username: 'dave', password: PASSWORD, csrf: 'forged' });
      assert.equal(page.status, 403);
      assert.match(page.html, /This form has expired or was not sent by this site/);
    });

    test('an expired interaction shows a readable page', async () => {
      const { server } = ctx();
      const res = await fetch(`${server.issuer}/interaction/does-not-exist`, { headers: { accept: 'text/html' } });
      assert.equal(res.status, 400);
      assert.match(await res.text(), /This sign-in has expired/);
    });

    test('repeated failures lock the account with a clear message, and the server keeps serving', async () => {
      const { server } = ctx();
      await server.services.accounts.create({ username: 'erin', password: PASSWORD });
      const browser = new Browser(server.issuer);
      const url = oidc.buildAuthorizationUrl(web.config, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
      const login = await browser.request(url.href);
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await browser.submit(login, '/step/password', { username: 'erin', password: `wrong-${i}` })).status);
      assert.deepEqual(statuses, [401, 401, 401, 401, 401]);
      const locked = await browser.submit(login, '/step/password', { username: 'erin', password: PASSWORD });
      assert.equal(locked.status, 429);
      assert.match(locked.html, /Too many failed sign-in attempts\. Try again in 15 minute/);
      assert.ok(Number(locked.headers.get('retry-after')) > 800);
      await server.services.audit.flush();
      const events = await server.services.audit.query({ type: 'login.locked_out' });
      assert.equal(events[0]?.details?.username, 'erin');
      // Other accounts still sign in.
      const ok = await loginWithPassword(web, server.issuer, { username: 'dave', password: PASSWORD });
      assert.ok(ok.tokens.id_token);
    });
  },
  {
    async setup({ server }) {
      await server.services.accounts.create({ username: 'dave', password: PASSWORD });
      const w = await server.services.clients.create({ name: 'Web', redirectUris: [REDIRECT], firstParty: true });
      webSecret = w.secret!;
      web = await discoverRp(server.issuer, w.client.clientId, { secret: webSecret });
      const s = await server.services.clients.create({ name: 'SPA', redirectUris: [REDIRECT], authMethod: 'none' });
      spa = await discoverRp(server.issuer, s.client.clientId, {});
    },
  },
);
