import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import * as jose from 'jose';
import * as oidc from 'openid-client';
import { clientCacheExpiry, connectAdminApi } from '../support/admin-api.js';
import { refusalAudited } from '../support/audit.js';
import { Browser } from '../support/browser.js';
import { tokensFrom } from '../support/interactive.js';
import { discoverRp, type RpClient } from '../support/rp.js';
import { describeOnEachBackend } from '../support/suite.js';

const PASSWORD = 'correct horse battery staple';
const KID = 'rp-sig-1';

let keys: jose.GenerateKeyPairResult;
let web: RpClient;

// The RP's own JWKS endpoint on loopback, for a client registered with jwks_uri.
let jwksServer: Server;
let jwksUri: string;
let served = 0;
before(async () => {
  keys = await jose.generateKeyPair('ES256');
  const jwk = { ...(await jose.exportJWK(keys.publicKey)), kid: KID, alg: 'ES256', use: 'sig' };
  jwksServer = createServer((_req, res) => {
    served += 1;
    res.setHeader('content-type', 'application/jwk-set+json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  jwksUri = `http://127.0.0.1:${(jwksServer.address() as { port: number }).port}/jwks`;
});
after(() => jwksServer.close());

const pkjwt = () => oidc.PrivateKeyJwt({ key: keys.privateKey, kid: KID });

/** Authorization parameters with PKCE, as a signed request object would carry them. */
async function requestParams(rp: RpClient) {
  const verifier = oidc.randomPKCECodeVerifier();
  const params = { redirect_uri: rp.redirectUri, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 'st' };
  return { verifier, params };
}

async function signIn(issuer: string, url: URL) {
  const browser = new Browser(issuer);
  const login = await browser.request(url.href);
  assert.match(login.html, /name="password"/, `expected the login page, got ${login.status}: ${login.html.slice(0, 300)}`);
  return browser.submit(login, '/step/password', { username: 'jay', password: PASSWORD });
}

describeOnEachBackend('signed request objects (RFC 9101) and private_key_jwt', (ctx) => {
  test('request= signed with the client key signs in; the code is redeemed with private_key_jwt', async () => {
    const { server } = ctx();
    const meta = web.config.serverMetadata();
    assert.equal(meta.request_parameter_supported, true);
    assert.ok(meta.request_object_signing_alg_values_supported?.includes('ES256'));
    const { verifier, params } = await requestParams(web);
    const url = await oidc.buildAuthorizationUrlWithJAR(web.config, params, { key: keys.privateKey, kid: KID });
    assert.ok(url.searchParams.get('request'));
    assert.equal(url.searchParams.get('redirect_uri'), null, 'the parameters travel only inside the signed object');
    const tokens = await tokensFrom(web, await signIn(server.issuer, url), verifier);
    assert.ok(tokens.id_token && tokens.access_token);
  });

  test('the signed request object pushed through PAR signs in too', async () => {
    const { server } = ctx();
    const { verifier, params } = await requestParams(web);
    const jar = await oidc.buildAuthorizationUrlWithJAR(web.config, params, { key: keys.privateKey, kid: KID });
    const url = await oidc.buildAuthorizationUrlWithPAR(web.config, jar.searchParams);
    assert.ok(url.searchParams.get('request_uri'));
    assert.ok((await tokensFrom(web, await signIn(server.issuer, url), verifier)).access_token);
  });

  test('a client requiring signed request objects is refused plain parameters; a foreign key is invalid_request_object', async () => {
    const { server } = ctx();
    const since = Date.now();
    const { params } = await requestParams(web);
    const plain = await new Browser(server.issuer).request(oidc.buildAuthorizationUrl(web.config, params).href);
    assert.equal(new URL(plain.leftTo!).searchParams.get('error'), 'invalid_request');
    const stranger = await jose.generateKeyPair('ES256');
    const forged = await oidc.buildAuthorizationUrlWithJAR(web.config, params, { key: stranger.privateKey, kid: KID });
    const page = await new Browser(server.issuer).request(forged.href);
    assert.doesNotMatch(page.html, /name="password"/);
    assert.match(page.leftTo ? new URL(page.leftTo).searchParams.get('error')! : page.html, /invalid_request_object/);
    assert.ok(await refusalAudited(server, since, { event: 'authorization.error', clientId: web.config.clientMetadata().client_id, error: 'invalid_request_object' }));
  });

  test('a pushed request_uri expires with its request object (exp): then invalid_request_uri', async () => {
    const { server } = ctx();
    const since = Date.now();
    const { params } = await requestParams(web);
    const now = Math.floor(Date.now() / 1000);
    const clientId = web.config.clientMetadata().client_id;
    const request = await new jose.SignJWT({ ...params, response_type: 'code', client_id: clientId })
      .setProtectedHeader({ alg: 'ES256', kid: KID, typ: 'oauth-authz-req+jwt' })
      .setIssuer(clientId)
      .setAudience(server.issuer)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + 1)
      .sign(keys.privateKey);
    const url = await oidc.buildAuthorizationUrlWithPAR(web.config, { request });
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const page = await new Browser(server.issuer).request(url.href);
    assert.equal(new URL(page.leftTo!).searchParams.get('error'), 'invalid_request_uri');
    assert.ok(await refusalAudited(server, since, { event: 'authorization.error', clientId, error: 'invalid_request_uri' }));
  });

  test('private_key_jwt with a jwks_uri: the provider fetches the RP keys (loopback allowed by configuration)', async () => {
    const { server } = ctx();
    const { clients } = server.services;
    const c = await clients.create({ name: 'JWKS URI job', grantTypes: ['client_credentials'], authMethod: 'private_key_jwt', jwksUri });
    const rp = await discoverRp(server.issuer, c.client.clientId, { method: pkjwt() });
    const before = served;
    assert.ok((await oidc.clientCredentialsGrant(rp.config, {})).access_token);
    assert.ok(served > before, 'the keys came from the jwks_uri');
    // A client assertion works once: its jti is remembered in the shared store.
    const assertion = await new jose.SignJWT({ jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: KID })
      .setIssuer(c.client.clientId)
      .setSubject(c.client.clientId)
      .setAudience(server.issuer)
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(keys.privateKey);
    const redeem = () =>
      fetch(`${server.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: c.client.clientId, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }),
      });
    assert.equal((await redeem()).status, 200);
    const replayed = await redeem();
    assert.equal(replayed.status, 401);
    assert.equal(((await replayed.json()) as { error: string }).error, 'invalid_client');
  });

  test('key rotation: the admin API replaces a jwks_uri with inline keys; the old key stops working', async () => {
    const { server } = ctx();
    const c = await server.services.clients.create({ name: 'Rotating job', grantTypes: ['client_credentials'], authMethod: 'private_key_jwt', jwksUri });
    const old = await discoverRp(server.issuer, c.client.clientId, { method: pkjwt() });
    assert.ok((await oidc.clientCredentialsGrant(old.config, {})).access_token);
    const next = await jose.generateKeyPair('ES256');
    const jwk = { ...(await jose.exportJWK(next.publicKey)), kid: 'rp-sig-2', alg: 'ES256', use: 'sig' };
    const { api } = await connectAdminApi(server);
    const changed = await api.call('patch', `/clients/${c.client.clientId}`, { body: { jwks: { keys: [jwk] } } });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.equal(changed.body.metadata.jwks_uri, undefined);
    await clientCacheExpiry();
    const rotated = await discoverRp(server.issuer, c.client.clientId, { method: oidc.PrivateKeyJwt({ key: next.privateKey, kid: 'rp-sig-2' }) });
    assert.ok((await oidc.clientCredentialsGrant(rotated.config, {})).access_token);
    await assert.rejects(oidc.clientCredentialsGrant(old.config, {}), (err: oidc.ResponseBodyError) => err.error === 'invalid_client');
  });
}, {
  env: { TESSERA_REQUEST_OBJECTS: 'true', TESSERA_OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' },
  async setup({ server }) {
    await server.services.accounts.create({ username: 'jay', password: PASSWORD });
    const jwk = { ...(await jose.exportJWK(keys.publicKey)), kid: KID, alg: 'ES256', use: 'sig' };
    const { api } = await connectAdminApi(server);
    const created = await api.call('post', '/clients', {
      body: { name: 'JAR web', redirectUris: ['http://127.0.0.1:9/callback'], authMethod: 'private_key_jwt', jwks: { keys: [jwk] }, firstParty: true, requireSignedRequestObject: true },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.clientSecret, undefined);
    web = await discoverRp(server.issuer, created.body.client.clientId, { method: pkjwt() });
  },
});
