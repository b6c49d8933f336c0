import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as jose from 'jose';
import * as oidc from 'openid-client';
import { postToken } from '../support/token-request.js';
import { discoverRp, loginWithPassword, type RpClient } from '../support/rp.js';
import { describeOnEachBackend } from '../support/suite.js';

const API = 'https://api.example.test';
const PASSWORD = 'correct horse battery staple';

let machine: RpClient;
let web: RpClient;
let webSecret: string;
const webClient = () => ({ id: web.config.clientMetadata().client_id, secret: webSecret });

describeOnEachBackend(
  'tokens: client credentials, JWT access tokens, introspection, revocation, code replay',
  (ctx) => {
    test('client credentials with a resource indicator yields an RFC 9068 ES256 JWT verifiable via JWKS', async () => {
      const { server } = ctx();
      const tokens = await oidc.clientCredentialsGrant(machine.config, { resource: API, scope: 'api:read' });
      const jwks = jose.createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
      const { payload, protectedHeader } = await jose.jwtVerify(tokens.access_token, jwks, {
        issuer: server.issuer,
        audience: API,
        typ: 'at+jwt',
      });
      assert.equal(protectedHeader.alg, 'ES256');
      assert.equal(payload.client_id, machine.config.clientMetadata().client_id);
      assert.equal(payload.scope, 'api:read');
      assert.ok(payload.jti && payload.exp && payload.iat);
    });

    test('client credentials without a resource gives an opaque token; introspection and revocation work', async () => {
      const tokens = await oidc.clientCredentialsGrant(machine.config, {});
      assert.ok(!tokens.access_token.includes('.'), 'opaque');
      const active = await oidc.tokenIntrospection(machine.config, tokens.access_token);
      assert.equal(active.active, true);
      assert.equal(active.client_id, machine.config.clientMetadata().client_id);
      await oidc.tokenRevocation(machine.config, tokens.access_token);
      const revoked = await oidc.tokenIntrospection(machine.config, tokens.access_token);
      assert.equal(revoked.active, false);
    });

    test('private_key_jwt client authentication (ES256 key registered as a JWKS)', async () => {
      const { server } = ctx();
      const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
      const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'rp-key-1', alg: 'ES256', use: 'sig' };
      const c = await server.services.clients.create({ name: 'PKJWT job', grantTypes: ['client_credentials'], authMethod: 'private_key_jwt', jwks: { keys: [jwk] } });
      assert.equal(c.secret, undefined, 'no shared secret is issued');
      const rp = await discoverRp(server.issuer, c.client.clientId, { method: oidc.PrivateKeyJwt({ key: privateKey, kid: 'rp-key-1' }) });
      const tokens = await oidc.clientCredentialsGrant(rp.config, { resource: API, scope: 'api:read' });
      assert.ok(tokens.access_token);
      // A key the client did not register is refused.
      const stranger = await jose.generateKeyPair('ES256');
      const forged = await discoverRp(server.issuer, c.client.clientId, { method: oidc.PrivateKeyJwt({ key: stranger.privateKey, kid: 'rp-key-1' }) });
      await assert.rejects(oidc.clientCredentialsGrant(forged.config, {}), (err: oidc.WWWAuthenticateChallengeError) => err.status === 401);
    });

    test('issued and revoked tokens are in the audit log with client, grant type and IP', async () => {
      const { server } = ctx();
      const tokens = await oidc.clientCredentialsGrant(machine.config, {});
      await oidc.tokenRevocation(machine.config, tokens.access_token);
      await server.services.audit.flush();
      const clientId = machine.config.clientMetadata().client_id;
      const issued = await server.services.audit.query({ type: 'token.issued', clientId });
      assert.ok(issued.length >= 1);
      assert.equal(issued[0]!.details?.grant_type, 'client_credentials');
      assert.match(issued[0]!.ip ?? '', /127\.0\.0\.1/);
      const revoked = await server.services.audit.query({ type: 'token.revoked', clientId });
      assert.equal(revoked[0]?.details?.kind, 'client_credentials');
      assert.ok(!JSON.stringify([...issued, ...revoked]).includes(tokens.access_token), 'no token values in the audit log');
    });

    test('a wrong client secret is refused with invalid_client', async () => {
      const { server } = ctx();
      const wrong = await discoverRp(server.issuer, machine.config.clientMetadata().client_id, { secret: 'not-the-secret' });
      await assert.rejects(oidc.clientCredentialsGrant(wrong.config, {}), (err: oidc.WWWAuthenticateChallengeError) => {
        assert.equal(err.status, 401);
        assert.equal(err.cause[0]?.parameters.error, 'invalid_client');
        return true;
      });
    });

    test('client_secret_post authenticates too', async () => {
      const { server } = ctx();
      const post = await discoverRp(server.issuer, web.config.clientMetadata().client_id, { secret: webSecret, method: oidc.ClientSecretPost(webSecret) });
      const { tokens } = await loginWithPassword(post, server.issuer, { username: 'bob', password: PASSWORD });
      assert.ok(tokens.id_token);
    });

    test('a replayed authorization code is refused and revokes the tokens it issued', async () => {
      const { server } = ctx();
      const { tokens, callback, verifier } = await loginWithPassword(web, server.issuer, { username: 'bob', password: PASSWORD }, { scope: 'openid' });
      assert.equal((await oidc.tokenIntrospection(web.config, tokens.access_token)).active, true);
      const res = await postToken(server.issuer, webClient(), {
        grant_type: 'authorization_code',
        code: callback.searchParams.get('code')!,
        redirect_uri: web.redirectUri,
        code_verifier: verifier,
      });
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'invalid_grant');
      assert.equal((await oidc.tokenIntrospection(web.config, tokens.access_token)).active, false, 'first token set revoked');
    });

    test('the same code redeemed concurrently yields exactly one token set', async () => {
      const { server } = ctx();
      // Drive the flow by hand to hold the code and the verifier.
      const verifier = oidc.randomPKCECodeVerifier();
      const { Browser } = await import('../support/browser.js');
      const browser = new Browser(server.issuer);
      const url = oidc.buildAuthorizationUrl(web.config, { redirect_uri: web.redirectUri, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
      const page = await browser.submit(await browser.request(url.href), '/step/password', { username: 'bob', password: PASSWORD });
      const code = new URL(page.leftTo!).searchParams.get('code')!;
      const redeem = () => postToken(server.issuer, webClient(), { grant_type: 'authorization_code', code, redirect_uri: web.redirectUri, code_verifier: verifier });
      const results = await Promise.all(Array.from({ length: 8 }, redeem));
      const statuses = results.map((r) => r.status).sort();
      assert.equal(statuses.filter((s) => s === 200).length, 1, `statuses: ${statuses}`);
      assert.ok(statuses.filter((s) => s !== 200).every((s) => s === 400));
      const access_token = String(results.find((r) => r.status === 200)!.body.access_token);
      // The losing redemptions count as a replay, so the winner's tokens are revoked too.
      assert.equal((await oidc.tokenIntrospection(web.config, access_token)).active, false);
    });
  },
  {
    env: { TESSERA_RESOURCE_SERVERS: JSON.stringify([{ indicator: API, scope: 'api:read api:write' }]) },
    async setup({ server }) {
      const { clients, accounts } = server.services;
      await accounts.create({ username: 'bob', password: PASSWORD });
      const m = await clients.create({ name: 'Batch job', grantTypes: ['client_credentials'], scope: 'api:read' });
      machine = await discoverRp(server.issuer, m.client.clientId, { secret: m.secret });
      const w = await clients.create({ name: 'Web', redirectUris: ['http://127.0.0.1:9/callback'], firstParty: true });
      webSecret = w.secret!;
      web = await discoverRp(server.issuer, w.client.clientId, { secret: webSecret });
    },
  },
);
