import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import * as jose from 'jose';
import * as oidc from 'openid-client';
import { PasskeyCredentials } from '../../src/steps/passkey/passkey-credentials.js';
import { TotpCredentials } from '../../src/steps/totp/totp-credentials.js';
import { adminToken, assertError, clientCacheExpiry, connectAdminApi, type AdminApi, type Operation } from '../support/admin-api.js';
import { discoverRp, loginWithPassword } from '../support/rp.js';
import { describeOnEachBackend, type SuiteContext } from '../support/suite.js';

const PASSWORD = 'correct horse battery staple';
const REDIRECT = 'http://127.0.0.1:9/callback';

let api: AdminApi;
let adminClientId: string;
let adminSecret: string;
describeOnEachBackend(
  'admin API',
  (ctx) => {
    test('the OpenAPI 3.1 document is public and describes every route with its scope', async () => {
      const { server } = ctx();
      const res = await fetch(`${server.issuer}/admin/v1/openapi.json`);
      assert.equal(res.status, 200);
      const doc = (await res.json()) as typeof api.doc & { openapi: string };
      assert.equal(doc.openapi, '3.1.0');
      for (const [path, ops] of Object.entries(doc.paths)) {
        if (path === '/openapi.json') continue;
        for (const [method, op] of Object.entries(ops) as [string, Operation & { security: { bearer: string[] }[] }][]) {
          assert.match(op.security[0]!.bearer[0]!, /^admin:(read|write)$/, `${method} ${path}`);
          assert.equal(op.security[0]!.bearer[0], method === 'get' ? 'admin:read' : 'admin:write', `${method} ${path}`);
          assert.ok(op.responses['401'] && op.responses['403'], `${method} ${path} documents authorisation failures`);
        }
      }
    });

    test('the admin token is an ES256 JWT for the admin resource', async () => {
      const { server } = ctx();
      const { payload, protectedHeader } = await jose.jwtVerify(api.tokens.write, jose.createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), {
        issuer: server.issuer,
        audience: `${server.issuer}/admin/v1`,
        typ: 'at+jwt',
      });
      assert.equal(protectedHeader.alg, 'ES256');
      assert.equal(payload.scope, 'admin:read admin:write');
    });

    test('authorisation: no token, malformed, foreign key, expired, wrong audience, opaque, missing scope', async () => {
      const { server } = ctx();
      const none = await api.call('get', '/users', { token: null });
      assertError(none, 401, 'unauthorized');
      assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer /);
      assert.doesNotMatch(none.headers.get('www-authenticate') ?? '', /error=/, 'no error code when no token was sent (RFC 6750 §3.1)');

      const malformed = await api.call('get', '/users', { token: 'not a token' });
      assertError(malformed, 401, 'invalid_token');

      const claims = { client_id: adminClientId, sub: adminClientId, scope: 'admin:read admin:write', jti: randomUUID() };
      const sign = (key: jose.CryptoKey | Uint8Array | jose.KeyObject | jose.JWK, kid: string, overrides: { exp?: number; aud?: string } = {}) =>
        new jose.SignJWT(claims)
          .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
          .setIssuer(server.issuer)
          .setAudience(overrides.aud ?? `${server.issuer}/admin/v1`)
          .setIssuedAt()
          .setExpirationTime(overrides.exp ?? Math.floor(Date.now() / 1000) + 300)
          .sign(key);

      const foreign = await jose.generateKeyPair('ES256');
      const forged = await api.call('get', '/users', { token: await sign(foreign.privateKey, 'foreign-key') });
      assertError(forged, 401, 'invalid_token');
      assert.match(forged.headers.get('www-authenticate') ?? '', /error="invalid_token"/);

      // Signed with the server's own current ES256 key, so only the expiry or audience is wrong.
      const own = (await server.services.keys.loadPrivateJwks()).find((k) => (k as { alg?: string }).alg === 'ES256') as jose.JWK & { kid: string };
      const ownKey = await jose.importJWK(own, 'ES256');
      const expired = await api.call('get', '/users', { token: await sign(ownKey, own.kid, { exp: Math.floor(Date.now() / 1000) - 60 }) });
      assertError(expired, 401, 'invalid_token', /expired/);
      const otherAudience = await api.call('get', '/users', { token: await sign(ownKey, own.kid, { aud: 'https://api.example.test' }) });
      assertError(otherAudience, 401, 'invalid_token');
      assert.equal((await api.call('get', '/users', { token: await sign(ownKey, own.kid) })).status, 200, 'the same token with the right audience works');
      const userToken = await new jose.SignJWT({ ...claims, sub: randomUUID() })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: own.kid })
        .setIssuer(server.issuer)
        .setAudience(`${server.issuer}/admin/v1`)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(ownKey);
      assertError(await api.call('get', '/users', { token: userToken }), 401, 'invalid_token', /not issued to a client for itself/);

      // A token without the admin resource is opaque and not accepted here.
      const rp = await discoverRp(server.issuer, adminClientId, { secret: adminSecret });
      const opaque = await oidc.clientCredentialsGrant(rp.config, { scope: 'admin:read' });
      assertError(await api.call('get', '/users', { token: opaque.access_token }), 401, 'invalid_token');

      const readOnly = await api.call('post', '/users', { token: api.tokens.read, body: { username: 'mallory' } });
      assertError(readOnly, 403, 'insufficient_scope', /admin:write/);
      assert.match(readOnly.headers.get('www-authenticate') ?? '', /error="insufficient_scope".*scope="admin:write"/);
      assert.equal((await api.call('get', '/users', { token: api.tokens.read })).status, 200, 'admin:read suffices for reads');
    });

    test('users: create, get, list, update, set password, delete; no password hash ever', async () => {
      const created = await api.call('post', '/users', { body: { username: 'Carol', email: 'carol@example.com', name: 'Carol C', password: PASSWORD } });
      assert.equal(created.status, 201);
      assert.equal(created.body.username, 'carol');
      assert.equal(created.headers.get('location'), `/admin/v1/users/${created.body.id}`);
      const id = created.body.id as string;
      assertError(await api.call('post', '/users', { body: { username: 'carol' } }), 409, 'conflict', /taken/);

      assert.equal((await api.call('get', `/users/${id}`)).body.email, 'carol@example.com');
      const list = await api.call('get', '/users');
      assert.ok(list.body.users.some((u: { id: string }) => u.id === id));
      assert.doesNotMatch(JSON.stringify(list.body), /argon2|password/i);

      const patched = await api.call('patch', `/users/${id}`, { body: { name: null, emailVerified: true, disabled: true } });
      assert.equal(patched.status, 200);
      assert.equal(patched.body.name, undefined);
      assert.equal(patched.body.emailVerified, true);
      assert.equal(patched.body.disabled, true);
      assert.equal((await api.call('patch', `/users/${id}`, { body: { disabled: false } })).body.disabled, false);

      assert.equal((await api.call('put', `/users/${id}/password`, { body: { password: 'another long password' } })).status, 204);
      assert.equal((await api.call('delete', `/users/${id}`)).status, 204);
      assertError(await api.call('get', `/users/${id}`), 404, 'not_found');
      assertError(await api.call('delete', `/users/${id}`), 404, 'not_found');
      assertError(await api.call('patch', `/users/${id}`, { body: { disabled: true } }), 404, 'not_found');
    });

    test('users: paged in username order with a cursor, filtered by prefix and disabled state', async () => {
      for (const name of ['pg.e', 'pg.b', 'pg.d', 'pg.a', 'pg.c', 'pgx']) {
        const created = await api.call('post', '/users', { body: { username: name } });
        if (name === 'pg.b' || name === 'pg.d') await api.call('patch', `/users/${created.body.id}`, { body: { disabled: true } });
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: { body: { users: { username: string }[]; nextCursor: string | null } } = await api.call('get', `/users?usernamePrefix=pg.&limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: api.tokens.read });
        assert.ok(page.body.users.length <= 2);
        seen.push(...page.body.users.map((u) => u.username));
        cursor = page.body.nextCursor;
        pages++;
      } while (cursor);
      assert.deepEqual(seen, ['pg.a', 'pg.b', 'pg.c', 'pg.d', 'pg.e']);
      assert.equal(pages, 3);
      const disabled = await api.call('get', '/users?usernamePrefix=PG.&disabled=true');
      assert.deepEqual(disabled.body.users.map((u: { username: string }) => u.username), ['pg.b', 'pg.d']);
      assert.equal(disabled.body.nextCursor, null);
      const enabled = await api.call('get', '/users?usernamePrefix=pg&disabled=false&limit=500');
      assert.deepEqual(enabled.body.users.map((u: { username: string }) => u.username), ['pg.a', 'pg.c', 'pg.e', 'pgx']);
      // LIKE wildcards in the prefix are taken literally.
      assert.deepEqual((await api.call('get', '/users?usernamePrefix=%25')).body.users, []);
      assert.deepEqual((await api.call('get', '/users?usernamePrefix=p_')).body.users, []);
      assertError(await api.call('get', '/users?limit=501'), 400, 'invalid_request', /query\.limit/);
      assertError(await api.call('get', '/users?disabled=maybe'), 400, 'invalid_request', /query\.disabled/);
      assertError(await api.call('get', '/users?cursor=not%20a%20cursor'), 400, 'invalid_request', /query\.cursor: must be a nextCursor/);
      assertError(await api.call('get', '/users?role=admin'), 400, 'invalid_request', /query: .*role/);
    });

    test('the password policy: a leaked or guessable password is refused with its reason, and nothing is stored', async () => {
      const leaked = await api.call('post', '/users', { body: { username: 'paula', password: 'Teleseti83' } });
      assertError(leaked, 400, 'invalid_request', /appears in lists of leaked passwords/);
      assert.deepEqual((await api.call('get', '/users?usernamePrefix=paula')).body.users, [], 'no account was created');
      // The owner's own name and email make an otherwise strong password guessable.
      const created = await api.call('post', '/users', { body: { username: 'paula', email: 'paula.diaz@example.com', name: 'Paula Diaz', password: PASSWORD } });
      const before = await ctx().server.services.accounts.passwordHashOf('paula');
      const personal = await api.call('put', `/users/${created.body.id}/password`, { body: { password: 'paula.diaz2024' } });
      assertError(personal, 400, 'invalid_request', /^Too easy to guess: ./);
      assert.equal((await ctx().server.services.accounts.passwordHashOf('paula'))?.hash, before?.hash, 'the password is unchanged');
    });

    test('validation errors name the field', async () => {
      assertError(await api.call('post', '/users', { body: { email: 'x@example.com' } }), 400, 'invalid_request', /body\.username/);
      assertError(await api.call('post', '/users', { body: { username: 'dave', password: 'short' } }), 400, 'invalid_request', /body\.password: .*8/);
      assertError(await api.call('post', '/users', { body: { username: 'dave', email: 'not-an-email' } }), 400, 'invalid_request', /body\.email/);
      assertError(await api.call('post', '/users', { body: { username: 'dave', role: 'root' } }), 400, 'invalid_request', /body: .*role/);
      assertError(await api.call('post', '/users', { body: { username: '-bad name' } }), 400, 'invalid_request', /username must be/);
      assertError(await api.call('patch', '/users/whoever', { body: {} }), 400, 'invalid_request', /at least one of/);
      assertError(await api.call('post', '/users', { raw: '{"username":' }), 400, 'invalid_request', /not valid JSON/);
      assertError(await api.call('post', '/users', { raw: 'username=dave', type: 'application/x-www-form-urlencoded' }), 415, 'invalid_request');
      assertError(await api.call('post', '/users', { raw: JSON.stringify({ username: 'x'.repeat(70_000) }) }), 413, 'invalid_request');
      assertError(await api.call('post', '/clients', { body: { name: 'Bad', redirectUris: ['not a url'] } }), 400, 'invalid_request', /body\.redirectUris\.0: must be an absolute URL/);
      assertError(await api.call('post', '/clients', { body: { name: 'Bad', grantTypes: ['implicit'] } }), 400, 'invalid_request', /body\.grantTypes\.0/);
      // The device code grant is a valid value, refused while the device flow is off (this server's default).
      const tv = { name: 'TV', authMethod: 'none', grantTypes: ['urn:ietf:params:oauth:grant-type:device_code'] };
      assertError(await api.call('post', '/clients', { body: tv }), 400, 'invalid_client_metadata', /grant_types/);
      assertError(await api.call('get', '/audit-events?limit=0'), 400, 'invalid_request', /query\.limit/);
      assertError(await api.call('get', '/audit-events?cursor=abc'), 400, 'invalid_request', /query\.cursor/);
      assertError(await api.call('post', '/keys/rotate', { body: { algs: ['HS256'] } }), 400, 'invalid_request', /body\.algs\.0/);
    });

    test('a deleted user can no longer sign in', async () => {
      const { server } = ctx();
      const web = await api.call('post', '/clients', { body: { name: 'Web app', redirectUris: [REDIRECT], firstParty: true } });
      assert.equal(web.status, 201);
      const rp = await discoverRp(server.issuer, web.body.client.clientId, { secret: web.body.clientSecret });
      const erin = await api.call('post', '/users', { body: { username: 'erin', password: PASSWORD } });
      const { tokens } = await loginWithPassword(rp, server.issuer, { username: 'erin', password: PASSWORD });
      assert.ok(tokens.id_token);
      // Signing in to an RP never yields an admin token (only client credentials do).
      await assert.rejects(
        loginWithPassword(rp, server.issuer, { username: 'erin', password: PASSWORD }, { scope: 'openid admin:write', extra: { resource: `${server.issuer}/admin/v1` } }),
        (err: oidc.AuthorizationResponseError) => err.error === 'invalid_target',
      );
      assert.equal((await oidc.tokenIntrospection(rp.config, tokens.access_token)).active, true);
      assert.equal((await api.call('delete', `/users/${erin.body.id}`)).status, 204);
      // Her grants went with her: even the opaque access token she already had is inactive.
      assert.equal((await oidc.tokenIntrospection(rp.config, tokens.access_token)).active, false);
      await assert.rejects(loginWithPassword(rp, server.issuer, { username: 'erin', password: PASSWORD }), /login did not return to the RP/);
    });

    test('disabling a user ends her sessions and revokes her grants and tokens at once', async () => {
      const { server } = ctx();
      const web = await api.call('post', '/clients', { body: { name: 'Portal', redirectUris: [REDIRECT], firstParty: true } });
      const rp = await discoverRp(server.issuer, web.body.client.clientId, { secret: web.body.clientSecret });
      const fay = await api.call('post', '/users', { body: { username: 'fay', password: PASSWORD } });
      const { tokens } = await loginWithPassword(rp, server.issuer, { username: 'fay', password: PASSWORD }, { scope: 'openid offline_access', extra: { prompt: 'consent' } });
      assert.ok(tokens.refresh_token);
      const { storage } = server.services;
      assert.equal((await storage.findByAccount('Session', fay.body.id)).length, 1);
      assert.equal((await api.call('patch', `/users/${fay.body.id}`, { body: { disabled: true } })).status, 200);
      assert.equal((await oidc.tokenIntrospection(rp.config, tokens.access_token)).active, false);
      await assert.rejects(oidc.refreshTokenGrant(rp.config, tokens.refresh_token!), (err: oidc.ResponseBodyError) => err.error === 'invalid_grant');
      assert.deepEqual(await storage.findByAccount('Session', fay.body.id), []);
      assert.deepEqual(await storage.findByAccount('Grant', fay.body.id), []);
      await server.services.audit.flush();
      const [event] = await server.services.audit.query({ subject: fay.body.id, type: 'admin.user_updated' });
      assert.deepEqual(event!.details!.revoked, { sessions: 1, grants: 1 });
    });

    test('enrollments: listed per step; TOTP removed with its recovery codes', async () => {
      const { server } = ctx();
      const frank = await api.call('post', '/users', { body: { username: 'frank', password: PASSWORD } });
      const id = frank.body.id as string;
      const totp = TotpCredentials.forMasterKey(server.services.db, server.services.masterKey.key);
      await totp.save(id, { secret: 'JBSWY3DPEHPK3PXP', algorithm: 'sha1', digits: 6, period: 30 }, 1);
      await totp.issueRecoveryCodes(id);

      const listed = await api.call('get', `/users/${id}/enrollments`, { token: api.tokens.read });
      assert.deepEqual(listed.body.enrollments, [
        { step: 'password', amr: 'pwd', enrolled: true, removable: false },
        { step: 'totp', amr: 'otp', enrolled: true, removable: true },
        { step: 'face', amr: 'face', enrolled: false, removable: true },
        { step: 'neural', amr: 'eeg', enrolled: false, removable: true },
        { step: 'passkey', amr: 'hwk', enrolled: false, removable: true, credentials: [] },
      ]);
      assert.doesNotMatch(JSON.stringify(listed.body), /JBSWY3DPEHPK3PXP/);
      assertError(await api.call('delete', `/users/${id}/enrollments/password`), 409, 'not_removable');
      assertError(await api.call('delete', `/users/${id}/enrollments/retina`), 404, 'not_found', /step/);
      assert.equal((await api.call('delete', `/users/${id}/enrollments/totp`)).status, 204);
      assert.equal(await totp.exists(id), false);
      assert.equal(await totp.remainingRecoveryCodes(id), 0);
      assertError(await api.call('delete', `/users/${id}/enrollments/totp`), 404, 'not_found', /enrollment/);
      assertError(await api.call('get', '/users/nobody/enrollments'), 404, 'not_found');
    });

    test('enrollments: passkeys listed one by one and removed one at a time', async () => {
      const { server } = ctx();
      const hana = await api.call('post', '/users', { body: { username: 'hana', password: PASSWORD } });
      const id = hana.body.id as string;
      const passkeys = new PasskeyCredentials(server.services.db);
      const key = (n: number) => ({ accountId: id, credentialId: `cred-${n}-${id}`, publicKey: new Uint8Array([n]), signCount: 0, transports: [], aaguid: '00000000-0000-0000-0000-000000000000', name: `Key ${n}`, deviceType: 'singleDevice' as const, backedUp: false });
      const first = (await passkeys.add(key(1)))!;
      await passkeys.add(key(2));
      const listed = await api.call('get', `/users/${id}/enrollments`, { token: api.tokens.read });
      const row = (listed.body.enrollments as { step: string; credentials?: { id: string; name: string; kind: string }[] }[]).find((e) => e.step === 'passkey')!;
      assert.deepEqual(row.credentials!.map((c) => [c.name, c.kind]), [['Key 1', 'device-bound passkey'], ['Key 2', 'device-bound passkey']]);
      assert.doesNotMatch(JSON.stringify(listed.body), /cred-1/, 'credential ids and keys stay inside');
      assert.equal((await api.call('delete', `/users/${id}/enrollments/passkey/credentials/${first}`)).status, 204);
      assert.deepEqual((await passkeys.ofAccount(id)).map((p) => p.name), ['Key 2']);
      assertError(await api.call('delete', `/users/${id}/enrollments/passkey/credentials/${first}`), 404, 'not_found', /credential/);
      assertError(await api.call('delete', `/users/${id}/enrollments/totp/credentials/${first}`), 409, 'not_several');
    });

    test('clients: create (secret once), get, list, update, rotate secret, delete; a deleted client gets no tokens', async () => {
      const { server } = ctx();
      const created = await api.call('post', '/clients', { body: { name: 'Batch', grantTypes: ['client_credentials'], clientId: 'batch-job' } });
      assert.equal(created.status, 201);
      const secret = created.body.clientSecret as string;
      assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
      assertError(await api.call('post', '/clients', { body: { name: 'Again', grantTypes: ['client_credentials'], clientId: 'batch-job' } }), 409, 'conflict');

      const got = await api.call('get', '/clients/batch-job', { token: api.tokens.read });
      assert.equal(got.body.hasSecret, true);
      const list = await api.call('get', '/clients', { token: api.tokens.read });
      assert.ok(list.body.clients.some((c: { clientId: string }) => c.clientId === 'batch-job'));
      assert.ok(!JSON.stringify([got.body, list.body]).includes(secret), 'secrets are never listed');

      const grant = async (s: string) => oidc.clientCredentialsGrant((await discoverRp(server.issuer, 'batch-job', { secret: s })).config, {});
      assert.ok((await grant(secret)).access_token);
      const rotated = await api.call('post', '/clients/batch-job/secret');
      assert.equal(rotated.status, 200);
      const fresh = rotated.body.clientSecret as string;
      assert.notEqual(fresh, secret);
      await clientCacheExpiry();
      assert.ok((await grant(fresh)).access_token);
      await assert.rejects(grant(secret), (err: oidc.WWWAuthenticateChallengeError) => err.status === 401, 'the old secret no longer works');

      const pub = await api.call('post', '/clients', { body: { name: 'SPA', authMethod: 'none', redirectUris: [REDIRECT] } });
      assert.equal(pub.body.clientSecret, undefined);
      assertError(await api.call('post', `/clients/${pub.body.client.clientId}/secret`), 400, 'invalid_request', /shared secret/);

      const spa = `/clients/${pub.body.client.clientId}`;
      const patched = await api.call('patch', spa, { body: { name: 'SPA v2', redirectUris: [REDIRECT, 'http://127.0.0.1:9/other'], firstParty: true } });
      assert.equal(patched.status, 200);
      assert.equal(patched.body.metadata.client_name, 'SPA v2');
      assert.deepEqual(patched.body.metadata.redirect_uris, [REDIRECT, 'http://127.0.0.1:9/other']);
      assert.equal(patched.body.metadata.tessera_first_party, true);
      assert.equal((await api.call('patch', spa, { body: { name: null } })).body.metadata.client_name, undefined);
      assertError(await api.call('patch', spa, { body: { redirectUris: [] } }), 400, 'invalid_request', /at least one redirect URI/);
      assertError(await api.call('patch', spa, { body: { redirectUris: ['https://app.example.test/cb#f'] } }), 400, 'invalid_client_metadata', /redirect_uris/);
      assertError(await api.call('patch', spa, { body: {} }), 400, 'invalid_request', /at least one setting/);
      assertError(await api.call('patch', '/clients/nobody', { body: { firstParty: false } }), 404, 'not_found');

      assert.equal((await api.call('delete', '/clients/batch-job')).status, 204);
      assertError(await api.call('get', '/clients/batch-job'), 404, 'not_found');
      assertError(await api.call('delete', '/clients/batch-job'), 404, 'not_found');
      assertError(await api.call('post', '/clients/batch-job/secret'), 404, 'not_found');
      await clientCacheExpiry();
      await assert.rejects(grant(fresh), (err: oidc.WWWAuthenticateChallengeError) => err.status === 401 && err.cause[0]?.parameters.error === 'invalid_client');
    });

    test('metadata the provider would refuse is refused at creation', async () => {
      const refused = await api.call('post', '/clients', {
        body: { name: 'Odd', redirectUris: ['https://app.example.test/cb#fragment'] },
      });
      assertError(refused, 400, 'invalid_client_metadata', /redirect_uris/);
    });

    test('audit events: every write names the acting admin client; filters and cursor paging', async () => {
      const { server } = ctx();
      const gina = await api.call('post', '/users', { body: { username: 'gina' } });
      const id = gina.body.id as string;
      await api.call('patch', `/users/${id}`, { body: { name: 'Gina' } });
      await api.call('patch', `/users/${id}`, { body: { disabled: true } });
      const all = await api.call('get', `/audit-events?subject=${id}`, { token: api.tokens.read });
      assert.deepEqual(
        all.body.events.map((e: { type: string }) => e.type),
        ['admin.user_updated', 'admin.user_updated', 'admin.user_created'],
      );
      for (const e of all.body.events) {
        assert.equal(e.details.actor, adminClientId);
        assert.equal(e.clientId, adminClientId);
        assert.equal(e.details.via, 'admin-api');
      }
      assert.equal(all.body.nextCursor, null);

      const first = await api.call('get', `/audit-events?subject=${id}&limit=2`);
      assert.equal(first.body.events.length, 2);
      assert.ok(first.body.nextCursor);
      const second = await api.call('get', `/audit-events?subject=${id}&limit=2&cursor=${first.body.nextCursor}`);
      assert.deepEqual(second.body.events.map((e: { type: string }) => e.type), ['admin.user_created']);

      const typed = await api.call('get', `/audit-events?type=admin.user_created&clientId=${adminClientId}&limit=500`);
      assert.ok(typed.body.events.some((e: { subject: string }) => e.subject === id));
      assert.ok(typed.body.events.every((e: { type: string }) => e.type === 'admin.user_created'));
      const at = all.body.events[2].at as number;
      const window = await api.call('get', `/audit-events?subject=${id}&from=${at}&to=${at}`);
      assert.ok(window.body.events.every((e: { at: number }) => e.at === at));
      assert.equal((await api.call('get', `/audit-events?subject=${id}&from=${Date.now() + 60_000}`)).body.events.length, 0);

      const clientEvents = await server.services.audit.query({ type: 'admin.client_secret_rotated' });
      assert.equal(clientEvents[0]?.clientId, 'batch-job', 'events about a client name that client');
      assert.equal(clientEvents[0]?.details?.actor, adminClientId);
    });

    test('keys: list and rotate; tokens from before and after the rotation both work', async () => {
      const { server } = ctx();
      const before = await api.call('get', '/keys', { token: api.tokens.read });
      const es256 = before.body.keys.filter((k: { alg: string }) => k.alg === 'ES256');
      const next = es256.find((k: { state: string }) => k.state === 'next');
      assert.ok(es256.some((k: { state: string }) => k.state === 'current') && next);
      assert.doesNotMatch(JSON.stringify(before.body), /"d":/, 'no private key material');

      const rotated = await api.call('post', '/keys/rotate', { body: { algs: ['ES256'], force: true } });
      assert.equal(rotated.status, 200);
      assert.equal(rotated.body.rotated[0].promoted, next.kid);
      const fresh = await adminToken(server.issuer, adminClientId, adminSecret, 'admin:read');
      assert.equal(jose.decodeProtectedHeader(fresh).kid, next.kid, 'this process signs with the promoted key at once');
      assert.equal((await api.call('get', '/keys', { token: fresh })).status, 200);
      assert.equal((await api.call('get', '/keys', { token: api.tokens.read })).status, 200, 'a token signed by the retired key still verifies');
    });

    test('a deleted admin client loses access at once', async () => {
      const { server } = ctx();
      const { client, secret } = await server.services.clients.create({ name: 'Temp admin', grantTypes: ['client_credentials'], scope: 'admin:read admin:write' });
      const token = await adminToken(server.issuer, client.clientId, secret!, 'admin:read');
      assert.equal((await api.call('get', '/keys', { token })).status, 200);
      assert.equal((await api.call('delete', `/clients/${client.clientId}`)).status, 204);
      assertError(await api.call('get', '/keys', { token }), 401, 'invalid_token', /no longer exists/);
    });

    test('every documented operation was exercised successfully and matched its schema', () => {
      const documented = Object.entries(api.doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
      // The flow and initial access token routes have their own suites (admin-flows.test.ts,
      // oauth-registration.test.ts), with the same check.
      const missing = documented.filter((op) => op !== 'GET /openapi.json' && !/ \/(flows|initial-access-tokens)/.test(op) && !api.succeeded.has(op));
      assert.deepEqual(missing, []);
    });

    test('unknown admin routes answer JSON 404', async () => {
      const { server } = ctx();
      const res = await fetch(`${server.issuer}/admin/v1/groups`);
      assert.equal(res.status, 404);
      assert.equal(((await res.json()) as { error: string }).error, 'not_found');
    });
  },
  {
    async setup({ server }: SuiteContext) {
      ({ api, adminClientId, adminSecret } = await connectAdminApi(server));
    },
  },
);
