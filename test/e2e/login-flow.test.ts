import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as jose from 'jose';
import * as oidc from 'openid-client';
import { BACKENDS, type Backend } from '../support/backends.js';
import { Browser } from '../support/browser.js';
import { discoverRp, loginWithPassword, type RpClient } from '../support/rp.js';
import { startTestServer, type TestServer } from '../support/server.js';

const PASSWORD = 'correct horse battery staple';

for (const makeBackend of BACKENDS) {
  describe(`authorization code + PKCE login (${makeBackend.name === 'sqliteBackend' ? 'SQLite' : 'PostgreSQL + Redis'})`, () => {
    let backend: Backend;
    let server: TestServer;
    let rp: RpClient;
    let publicRp: RpClient;
    let userId: string;

    before(async () => {
      backend = await makeBackend();
      server = await startTestServer(backend);
      const { accounts, clients } = server.services;
      userId = (await accounts.create({ username: 'alice', email: 'alice@example.com', emailVerified: true, name: 'Alice Example', password: PASSWORD })).id;
      const confidential = await clients.create({ name: 'Web RP', redirectUris: ['http://127.0.0.1:9/callback'] });
      rp = await discoverRp(server.issuer, confidential.client.clientId, { secret: confidential.secret });
      const pub = await clients.create({ name: 'SPA', redirectUris: ['http://127.0.0.1:9/callback'], authMethod: 'none', firstParty: true });
      publicRp = await discoverRp(server.issuer, pub.client.clientId, {});
    });

    after(async () => {
      await server?.stop();
      await backend?.dispose();
    });

    test('login through the form yields an ID token verified against the JWKS, with amr pwd', async () => {
      const { tokens, callback } = await loginWithPassword(rp, server.issuer, { username: 'alice', password: PASSWORD });
      // RFC 9207: the authorization response names its issuer.
      assert.equal(callback.searchParams.get('iss'), server.issuer);
      const claims = tokens.claims()!;
      assert.equal(claims.sub, userId);
      assert.deepEqual(claims.amr, ['pwd']);
      assert.equal(claims.acr, 'urn:tessera:acr:password');
      // Independent check with jose against the published keys.
      const jwks = jose.createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
      const { payload, protectedHeader } = await jose.jwtVerify(tokens.id_token!, jwks, { issuer: server.issuer, audience: rp.config.clientMetadata().client_id });
      assert.equal(payload.sub, userId);
      assert.equal(protectedHeader.alg, 'RS256');
    });

    test('the device authorization grant is off by default: not advertised, its endpoints absent', async () => {
      const meta = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      assert.equal(meta.device_authorization_endpoint, undefined);
      assert.ok(!(meta.grant_types_supported as string[]).includes('urn:ietf:params:oauth:grant-type:device_code'));
      assert.equal((await fetch(`${server.issuer}/device/auth`, { method: 'POST', body: new URLSearchParams({ client_id: 'x' }) })).status, 404);
      assert.equal((await fetch(`${server.issuer}/device`)).status, 404);
    });

    test('userinfo returns the standard claims for the granted scopes', async () => {
      const { tokens } = await loginWithPassword(rp, server.issuer, { username: 'alice', password: PASSWORD });
      const info = await oidc.fetchUserInfo(rp.config, tokens.access_token, userId);
      assert.equal(info.email, 'alice@example.com');
      assert.equal(info.email_verified, true);
      assert.equal(info.name, 'Alice Example');
      assert.equal(info.preferred_username, 'alice');
    });

    test('a second login in the same browser reuses the session (no form)', async () => {
      const browser = new Browser(server.issuer);
      await loginWithPassword(rp, server.issuer, { username: 'alice', password: PASSWORD }, { browser });
      const again = await loginWithPassword(rp, server.issuer, { username: 'nobody', password: 'unused' }, { browser });
      assert.equal(again.tokens.claims()!.sub, userId);
    });

    test('public client: PKCE login without consent (first party), rotating refresh tokens', async () => {
      // offline_access needs prompt=consent (OIDC Core 11), which shows consent even to first parties.
      const { tokens } = await loginWithPassword(publicRp, server.issuer, { username: 'alice', password: PASSWORD }, { scope: 'openid offline_access', extra: { prompt: 'consent' } });
      assert.ok(tokens.refresh_token, 'offline_access gives a refresh token');
      const refreshed = await oidc.refreshTokenGrant(publicRp.config, tokens.refresh_token!);
      assert.ok(refreshed.access_token);
      assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'public clients rotate refresh tokens');
      // Reusing the rotated-away token is refused and revokes the grant.
      await assert.rejects(oidc.refreshTokenGrant(publicRp.config, tokens.refresh_token!), (err: oidc.ResponseBodyError) => err.error === 'invalid_grant');
      await assert.rejects(oidc.refreshTokenGrant(publicRp.config, refreshed.refresh_token!), (err: oidc.ResponseBodyError) => err.error === 'invalid_grant');
    });

    test('first-party clients skip the consent page', async () => {
      const { tokens } = await loginWithPassword(publicRp, server.issuer, { username: 'alice', password: PASSWORD }, { scope: 'openid profile email', consent: false });
      assert.equal(tokens.claims()!.sub, userId);
    });

    test('disabling an account stops its refresh tokens and userinfo at once', async () => {
      const { accounts } = server.services;
      const carl = await accounts.create({ username: 'carl', password: PASSWORD });
      const { tokens } = await loginWithPassword(publicRp, server.issuer, { username: 'carl', password: PASSWORD }, { scope: 'openid offline_access', extra: { prompt: 'consent' } });
      await accounts.setDisabled(carl.id, true);
      await assert.rejects(oidc.refreshTokenGrant(publicRp.config, tokens.refresh_token!), (err: oidc.ResponseBodyError) => err.error === 'invalid_grant');
      await assert.rejects(oidc.fetchUserInfo(publicRp.config, tokens.access_token, carl.id));
      const login = await loginWithPassword(rp, server.issuer, { username: 'carl', password: PASSWORD }).catch((err: Error) => err);
      assert.match(String(login), /login did not return to the RP \(403\)/, 'the sign-in is refused with 403');
    });

    test('wrong password and unknown user get the same answer', async () => {
      const browser = new Browser(server.issuer);
      const url = oidc.buildAuthorizationUrl(rp.config, { redirect_uri: rp.redirectUri, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
      const login = await browser.request(url.href);
      const wrong = await browser.submit(login, '/step/password', { username: 'alice', password: 'not the password' });
      const unknown = await browser.submit(login, '/step/password', { username: 'mallory', password: 'not the password' });
      assert.equal(wrong.status, 401);
      assert.equal(unknown.status, 401);
      const message = (p: { html: string }) => /<p class="alert"[^>]*>([^<]*)</.exec(p.html)?.[1];
      assert.equal(message(wrong), 'The username or password is incorrect.');
      assert.equal(message(unknown), message(wrong));
    });

    test('a step submission that accepts JSON gets its outcome as JSON', async () => {
      const browser = new Browser(server.issuer);
      const url = oidc.buildAuthorizationUrl(rp.config, { redirect_uri: rp.redirectUri, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
      const login = await browser.request(url.href);
      const json = { accept: 'application/json' };
      const wrong = await browser.submit(login, '/step/password', { username: 'alice', password: 'not the password' }, json);
      assert.equal(wrong.status, 401);
      assert.deepEqual(JSON.parse(wrong.html), { ok: false, status: 401, message: 'The username or password is incorrect.' });
      const forged = await browser.submit(login, '/step/password', { username: 'alice', password: PASSWORD, csrf: 'forged' }, json);
      assert.equal(forged.status, 403);
      assert.match(JSON.parse(forged.html).message, /form has expired/);
      const ok = await browser.submit(login, '/step/password', { username: 'alice', password: PASSWORD }, json);
      assert.equal(ok.status, 200);
      const { ok: done, next } = JSON.parse(ok.html) as { ok: boolean; next: string };
      assert.equal(done, true);
      // Following `next` continues the sign-in (here: the consent page of a third-party client).
      assert.match((await browser.request(next)).html, /Allow access/);
    });
  });
}
