import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import * as jose from 'jose';
import * as oidc from 'openid-client';
import { connectAdminApi } from '../support/admin-api.js';
import { refusalAudited } from '../support/audit.js';
import { Browser } from '../support/browser.js';
import { authorize } from '../support/interactive.js';
import { discoverRp, type RpClient } from '../support/rp.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { describeOnEachBackend } from '../support/suite.js';

const PASSWORD = 'correct horse battery staple';

let spa: RpClient;
let resourceServer: RpClient;
let job: { id: string; secret: string };
let boundJob: RpClient;

/** A DPoP proof (RFC 9449 §4.2) made by hand, so a test can replay it or get htu/htm wrong. */
async function proof(keys: jose.GenerateKeyPairResult, claims: { htm: string; htu: string; nonce?: string }) {
  const jwk = await jose.exportJWK(keys.publicKey);
  return new jose.SignJWT({ ...claims, jti: randomUUID() })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
    .setIssuedAt()
    .sign(keys.privateKey);
}

/** A client credentials request with a DPoP header, to `base` (optionally as if addressed to `forwardedHost`). */
async function clientCredentials(base: string, dpop: string, forwardedHost?: string) {
  const res = await fetch(`${base}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${job.id}:${job.secret}`).toString('base64')}`,
      dpop,
      ...(forwardedHost ? { 'x-forwarded-host': forwardedHost } : {}),
    },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  });
  return { status: res.status, nonce: res.headers.get('dpop-nonce'), body: (await res.json()) as { error?: string; error_description?: string; token_type?: string } };
}

/** The server nonce the token endpoint hands out with its use_dpop_nonce challenge. */
async function serverNonce(base: string, keys: jose.GenerateKeyPairResult, issuer: string) {
  const first = await clientCredentials(base, await proof(keys, { htm: 'POST', htu: `${issuer}/token` }), new URL(issuer).host);
  assert.equal(first.status, 400);
  assert.equal(first.body.error, 'use_dpop_nonce');
  assert.ok(first.nonce);
  return first.nonce;
}

describeOnEachBackend('DPoP sender-constrained tokens (RFC 9449)', (ctx) => {
  test('a public client signs in with DPoP: bound access token, userinfo, cnf.jkt in introspection, refresh bound to the key', async () => {
    const { server } = ctx();
    const since = Date.now();
    assert.deepEqual(spa.config.serverMetadata().dpop_signing_alg_values_supported, ['ES256', 'Ed25519', 'EdDSA']);
    const keys = await oidc.randomDPoPKeyPair('ES256');
    const DPoP = oidc.getDPoPHandle(spa.config, keys);
    const browser = new Browser(server.issuer);
    const start = await authorize(spa, browser, { scope: 'openid offline_access', prompt: 'consent' });
    // Not first-party, and offline_access: the user is asked for consent.
    const consent = await browser.submit(start.page, '/step/password', { username: 'dee', password: PASSWORD });
    assert.match(consent.html, /\/consent/);
    const back = await browser.submit(consent, '/consent');
    const tokens = await oidc.authorizationCodeGrant(spa.config, new URL(back.leftTo!), { pkceCodeVerifier: start.verifier, expectedState: 'st' }, undefined, { DPoP });
    assert.equal(tokens.token_type, 'dpop');
    assert.ok(tokens.refresh_token);

    const info = await oidc.fetchUserInfo(spa.config, tokens.access_token, tokens.claims()!.sub, { DPoP });
    assert.equal(info.sub, tokens.claims()!.sub);
    // Without the proof the bound token is refused.
    await assert.rejects(oidc.fetchUserInfo(spa.config, tokens.access_token, tokens.claims()!.sub), (err: oidc.WWWAuthenticateChallengeError) => err.status === 401);

    const thumbprint = await jose.calculateJwkThumbprint(await jose.exportJWK(keys.publicKey));
    const introspected = await oidc.tokenIntrospection(resourceServer.config, tokens.access_token);
    assert.equal(introspected.active, true);
    assert.equal(introspected.token_type, 'DPoP');
    assert.deepEqual(introspected.cnf, { jkt: thumbprint });

    const refreshed = await oidc.refreshTokenGrant(spa.config, tokens.refresh_token!, undefined, { DPoP });
    assert.equal(refreshed.token_type, 'dpop');
    // The public client's refresh token is bound to its key: another key cannot use it.
    const stranger = oidc.getDPoPHandle(spa.config, await oidc.randomDPoPKeyPair('ES256'));
    await assert.rejects(oidc.refreshTokenGrant(spa.config, refreshed.refresh_token!, undefined, { DPoP: stranger }), (err: oidc.ResponseBodyError) => {
      assert.equal(err.error, 'invalid_grant');
      return true;
    });
    const refused = await refusalAudited(server, since, { event: 'grant.error', clientId: spa.config.clientMetadata().client_id, error: 'invalid_grant' });
    assert.equal(refused?.details?.detail, 'failed jkt verification');
  });

  test('server nonces and replay detection are shared: a nonce from one process works on another, a proof used on one is refused on the other, even at the same moment', async () => {
    const { server, backend } = ctx();
    const since = Date.now();
    // A second process on the same stores and master key, reached through a proxy that says which host was asked.
    const other: TestServer = await startTestServer(backend, { TESSERA_MASTER_KEY: server.env.TESSERA_MASTER_KEY!, TESSERA_DPOP_REQUIRE_NONCE: 'true', TRUST_PROXY: 'true', ISSUER: server.issuer });
    try {
      const keys = await jose.generateKeyPair('ES256');
      const nonce = await serverNonce(server.issuer, keys, server.issuer);
      const dpop = await proof(keys, { htm: 'POST', htu: `${server.issuer}/token`, nonce });
      const host = new URL(server.issuer).host;
      const issued = await clientCredentials(other.url, dpop, host);
      assert.equal(issued.status, 200, JSON.stringify(issued.body));
      assert.equal(issued.body.token_type, 'DPoP');
      const replayed = await clientCredentials(server.issuer, dpop);
      assert.equal(replayed.status, 400);
      assert.equal(replayed.body.error, 'invalid_grant');
      const refused = await refusalAudited(server, since, { event: 'grant.error', clientId: job.id, error: 'invalid_grant' });
      assert.equal(refused?.details?.detail, 'DPoP proof JWT Replay detected');
      assert.ok(!JSON.stringify(refused).includes(dpop), 'the proof is not in the audit trail');
      // One fresh proof sent eight times at once, half to each process: exactly one is accepted.
      const racing = await proof(keys, { htm: 'POST', htu: `${server.issuer}/token`, nonce: await serverNonce(server.issuer, keys, server.issuer) });
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => clientCredentials(i % 2 ? other.url : server.issuer, racing, host)));
      assert.deepEqual(results.map((r) => r.status).sort(), [200, 400, 400, 400, 400, 400, 400, 400]);
    } finally {
      await other.stop();
    }
  });

  test('a proof for another URL (htu) or another method (htm) is invalid_dpop_proof and audited', async () => {
    const { server } = ctx();
    const since = Date.now();
    const keys = await jose.generateKeyPair('ES256');
    const nonce = await serverNonce(server.issuer, keys, server.issuer);
    const wrongUrl = await clientCredentials(server.issuer, await proof(keys, { htm: 'POST', htu: `${server.issuer}/me`, nonce }));
    assert.equal(wrongUrl.status, 400);
    assert.equal(wrongUrl.body.error, 'invalid_dpop_proof');
    assert.match(wrongUrl.body.error_description!, /htu mismatch/);
    const wrongMethod = await clientCredentials(server.issuer, await proof(keys, { htm: 'GET', htu: `${server.issuer}/token`, nonce }));
    assert.equal(wrongMethod.body.error, 'invalid_dpop_proof');
    assert.match(wrongMethod.body.error_description!, /htm mismatch/);
    const refused = await refusalAudited(server, since, { event: 'grant.error', clientId: job.id, error: 'invalid_dpop_proof' });
    assert.match(String(refused?.details?.description), /htm mismatch/);
  });

  test('a client registered with dpop_bound_access_tokens gets no token without a proof', async () => {
    await assert.rejects(oidc.clientCredentialsGrant(boundJob.config, {}), (err: oidc.ResponseBodyError) => err.error === 'invalid_request' || err.error === 'invalid_grant');
    const DPoP = oidc.getDPoPHandle(boundJob.config, await oidc.randomDPoPKeyPair('ES256'));
    const tokens = await oidc.clientCredentialsGrant(boundJob.config, {}, { DPoP });
    assert.equal(tokens.token_type, 'dpop');
  });
}, {
  env: { TESSERA_DPOP_REQUIRE_NONCE: 'true' },
  async setup({ server }) {
    const { clients, accounts } = server.services;
    await accounts.create({ username: 'dee', password: PASSWORD });
    const s = await clients.create({ name: 'DPoP SPA', authMethod: 'none', redirectUris: ['http://127.0.0.1:9/callback'], scope: 'openid offline_access' });
    spa = await discoverRp(server.issuer, s.client.clientId, {});
    const r = await clients.create({ name: 'Resource server', grantTypes: ['client_credentials'] });
    resourceServer = await discoverRp(server.issuer, r.client.clientId, { secret: r.secret });
    const j = await clients.create({ name: 'DPoP job', grantTypes: ['client_credentials'] });
    job = { id: j.client.clientId, secret: j.secret! };
    const { api } = await connectAdminApi(server);
    const created = await api.call('post', '/clients', { body: { name: 'Bound job', grantTypes: ['client_credentials'], dpopBoundAccessTokens: true } });
    const b = { client: created.body.client, secret: created.body.clientSecret as string };
    boundJob = await discoverRp(server.issuer, b.client.clientId, { secret: b.secret });
  },
});
