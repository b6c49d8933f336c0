import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as oidc from 'openid-client';
import { connectAdminApi, type AdminApi } from '../support/admin-api.js';
import { refusalAudited } from '../support/audit.js';
import { loginWithPassword } from '../support/rp.js';
import type { TestServer } from '../support/server.js';
import { describeOnEachBackend } from '../support/suite.js';

const PASSWORD = 'correct horse battery staple';
const REDIRECT = 'http://127.0.0.1:9/callback';
const POLICIES = {
  'loopback-web': { redirectUriHosts: ['127.0.0.1'], httpsOnly: false, grantTypes: ['authorization_code', 'refresh_token'], authMethods: ['client_secret_basic', 'private_key_jwt'] },
  'https-only': {},
};

let api: AdminApi;

async function initialAccessToken(policies: string[]) {
  const created = await api.call('post', '/initial-access-tokens', { body: { policies, description: 'test partner' } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body as { initialAccessToken: { id: string }; value: string };
}

/** A raw registration request (RFC 7591 §3.1), for bodies openid-client would not send. */
async function register(server: TestServer, body: unknown, token?: string) {
  const res = await fetch(`${server.issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** An RFC 7592 request to a client's configuration endpoint with its registration access token. */
async function manage(uri: string, token: string, method: 'GET' | 'PUT' | 'DELETE', body?: unknown) {
  const res = await fetch(uri, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Record<string, any> };
}

const clientCount = async (server: TestServer) => (await server.services.clients.list()).length;

describeOnEachBackend('dynamic client registration (RFC 7591/7592) behind initial access tokens', (ctx) => {
  test('an initial access token from the admin API registers a client that signs in; only hashes of the tokens are stored', async () => {
    const { server } = ctx();
    assert.equal(((await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>).registration_endpoint, `${server.issuer}/reg`);
    const { initialAccessToken: iat, value } = await initialAccessToken(['loopback-web']);
    const listed = await api.call('get', '/initial-access-tokens');
    assert.deepEqual(listed.body.initialAccessTokens.find((t: { id: string }) => t.id === iat.id)?.policies, ['loopback-web']);
    assert.ok(!JSON.stringify(listed.body).includes(value), 'the value is shown only once');

    const config = await oidc.dynamicClientRegistration(
      new URL(server.issuer),
      { client_name: 'Partner app', redirect_uris: [REDIRECT] },
      undefined,
      { initialAccessToken: value, execute: [oidc.allowInsecureRequests] },
    );
    const metadata = config.clientMetadata();
    assert.ok(metadata.client_secret && metadata.registration_access_token && metadata.registration_client_uri);
    const { tokens } = await loginWithPassword({ config, redirectUri: REDIRECT }, server.issuer, { username: 'reg', password: PASSWORD });
    assert.ok(tokens.id_token);

    const stored = await api.call('get', `/clients/${metadata.client_id}`);
    assert.equal(stored.body.selfRegistered, true);
    assert.equal(stored.body.metadata.tessera_first_party, undefined, 'never first-party: its users are asked for consent');
    const { db } = server.services;
    const everything = JSON.stringify([await db('initial_access_tokens').select(), await db('oidc_records').select(), await db('clients').select()]);
    assert.ok(!everything.includes(value), 'no initial access token value in the database');
    assert.ok(!everything.includes(String(metadata.registration_access_token)), 'no registration access token value in the database');
    assert.ok(!everything.includes(String(metadata.client_secret)), 'the client secret is sealed');
    await server.services.audit.flush();
    const [registered] = await server.services.audit.query({ type: 'client.registered', clientId: metadata.client_id });
    assert.deepEqual(registered?.details?.policies, ['loopback-web']);
  });

  test('policies and the admin-only settings refuse bad metadata with the RFC codes, audited, and nothing is stored', async () => {
    const { server } = ctx();
    const since = Date.now();
    const { value } = await initialAccessToken(['loopback-web']);
    const before = await clientCount(server);
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ redirect_uris: ['http://evil.example/cb'] }, 'invalid_redirect_uri', /may name only 127\.0\.0\.1/],
      [{ redirect_uris: [REDIRECT], grant_types: ['client_credentials'], response_types: [] }, 'invalid_client_metadata', /grant type client_credentials is not allowed/],
      [{ redirect_uris: [REDIRECT], tessera_first_party: true }, 'invalid_client_metadata', /tessera_first_party cannot be registered/],
      [{ redirect_uris: [REDIRECT], tessera_flow: 'password' }, 'invalid_client_metadata', /tessera_flow cannot be registered/],
      [{ redirect_uris: 'not a list' }, 'invalid_redirect_uri', /redirect_uris/],
      [{ redirect_uris: [REDIRECT], client_name: 42 }, 'invalid_client_metadata', /client_name/],
      [{ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }, 'invalid_client_metadata', /token_endpoint_auth_method none is not allowed/],
    ];
    for (const [body, error, description] of cases) {
      const res = await register(server, body, value);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.error, error, JSON.stringify(body));
      assert.match(res.body.error_description, description);
    }
    for (const error of ['invalid_client_metadata', 'invalid_redirect_uri']) assert.ok(await refusalAudited(server, since, { event: 'registration_create.error', error }), error);
    // A policy without https rules out the loopback redirect the other policy allowed.
    const strict = await initialAccessToken(['https-only']);
    assert.equal((await register(server, { redirect_uris: [REDIRECT] }, strict.value)).body.error, 'invalid_redirect_uri');
    assert.equal(await clientCount(server), before, 'no refused registration stored a client');
  });

  test('a self-registered client never reaches the admin API, whatever scope it registered', async () => {
    const { server } = ctx();
    const { value } = await initialAccessToken([]);
    const res = await register(server, { grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'admin:read admin:write' }, value);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const machine = await oidc.discovery(new URL(server.issuer), res.body.client_id, res.body.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
    await assert.rejects(oidc.clientCredentialsGrant(machine, { resource: `${server.issuer}/admin/v1`, scope: 'admin:write' }), (err: oidc.ResponseBodyError) => {
      assert.equal(err.error, 'invalid_target');
      return true;
    });
  });

  test('registration without, with an unknown or with a revoked initial access token is invalid_token', async () => {
    const { server } = ctx();
    const since = Date.now();
    const before = await clientCount(server);
    const body = { redirect_uris: [REDIRECT] };
    const none = await register(server, body);
    assert.equal(none.status, 401);
    assert.equal(none.body.error, 'invalid_token');
    assert.equal((await register(server, body, 'not-a-token')).body.error, 'invalid_token');
    const { initialAccessToken: iat, value } = await initialAccessToken(['loopback-web']);
    assert.equal((await api.call('delete', `/initial-access-tokens/${iat.id}`)).status, 204);
    const revoked = await register(server, body, value);
    assert.equal(revoked.status, 401);
    assert.equal(revoked.body.error, 'invalid_token');
    const listed = await api.call('get', '/initial-access-tokens');
    assert.ok(listed.body.initialAccessTokens.find((t: { id: string }) => t.id === iat.id)?.revokedAt);
    assert.equal(await clientCount(server), before);
    assert.ok(await refusalAudited(server, since, { event: 'registration_create.error', error: 'invalid_token' }));
  });

  test('RFC 7592: the registration access token reads, updates (policies still apply, token rotated) and deletes the client', async () => {
    const { server } = ctx();
    const { value } = await initialAccessToken(['loopback-web']);
    const created = await register(server, { client_name: 'Self-managed', redirect_uris: [REDIRECT] }, value);
    assert.equal(created.status, 201);
    const { registration_client_uri: uri, registration_access_token: first, client_id: clientId } = created.body;
    const read = await manage(uri, first, 'GET');
    assert.equal(read.status, 200);
    assert.equal(read.body.client_name, 'Self-managed');

    const updated = await manage(uri, first, 'PUT', { client_id: clientId, client_name: 'Renamed', redirect_uris: [REDIRECT, 'http://127.0.0.1:9/other'] });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    assert.equal(updated.body.client_name, 'Renamed');
    const second = updated.body.registration_access_token;
    assert.ok(second && second !== first, 'rotated on update');
    assert.equal((await manage(uri, first, 'GET')).status, 401, 'the old token no longer works');

    const outside = await manage(uri, second, 'PUT', { client_id: clientId, redirect_uris: ['http://evil.example/cb'] });
    assert.equal(outside.status, 400);
    assert.equal(outside.body.error, 'invalid_redirect_uri');
    const firstParty = await manage(uri, second, 'PUT', { client_id: clientId, redirect_uris: [REDIRECT], tessera_first_party: true });
    assert.equal(firstParty.body.error, 'invalid_client_metadata');
    assert.equal((await api.call('get', `/clients/${clientId}`)).body.metadata.client_name, 'Renamed', 'refused updates changed nothing');

    assert.equal((await manage(uri, second, 'DELETE')).status, 204);
    assert.equal((await api.call('get', `/clients/${clientId}`)).status, 404);
    await server.services.audit.flush();
    assert.equal((await server.services.audit.query({ type: 'client.registration_deleted', clientId })).length, 1);
  });

  test('an administrator client is out of a registration access token\'s reach', async () => {
    const { server } = ctx();
    const { value } = await initialAccessToken(['loopback-web']);
    const created = await register(server, { redirect_uris: [REDIRECT] }, value);
    const admin = await server.services.clients.create({ name: 'Admin-made', redirectUris: [REDIRECT] });
    const foreign = created.body.registration_client_uri.replace(created.body.client_id, admin.client.clientId);
    assert.equal((await manage(foreign, created.body.registration_access_token, 'DELETE')).status, 401);
    assert.ok(await server.services.clients.get(admin.client.clientId));
  });

  // Last among the registration requests: it locks this suite's address out of the endpoint.
  test('failed token checks are rate-limited per address: at the limit even a valid token gets 429, audited', async () => {
    const { server } = ctx();
    const { value } = await initialAccessToken(['loopback-web']);
    let status = 401;
    for (let i = 0; i < 20 && status === 401; i++) status = (await register(server, { redirect_uris: [REDIRECT] }, `guess-${i}`)).status;
    const locked = await fetch(`${server.issuer}/reg`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${value}` }, body: JSON.stringify({ redirect_uris: [REDIRECT] }) });
    assert.equal(locked.status, 429);
    assert.ok(Number(locked.headers.get('retry-after')) > 0);
    await server.services.audit.flush();
    assert.equal((await server.services.audit.query({ type: 'registration.locked_out' })).length, 1);
  });

  test('every initial access token operation was exercised successfully and matched its schema', () => {
    const documented = Object.entries(api.doc.paths).filter(([path]) => path.startsWith('/initial-access-tokens')).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    assert.equal(documented.length, 3);
    assert.deepEqual(documented.filter((op) => !api.succeeded.has(op)), []);
  });
}, {
  env: { TESSERA_REGISTRATION: 'true', TESSERA_REGISTRATION_POLICIES: JSON.stringify(POLICIES) },
  async setup({ server }) {
    await server.services.accounts.create({ username: 'reg', password: PASSWORD });
    ({ api } = await connectAdminApi(server));
  },
});
