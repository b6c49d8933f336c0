import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { test } from 'node:test';
import { generate } from 'otplib';
import { FlowStore } from '../../src/interaction/flow-store.js';
import { TotpCredentials } from '../../src/steps/totp/totp-credentials.js';
import { assertError, connectAdminApi, expiredAdminToken, type AdminApi } from '../support/admin-api.js';
import { Browser } from '../support/browser.js';
import { authorize, tokensFrom } from '../support/interactive.js';
import { discoverRp } from '../support/rp.js';
import { freePort } from '../support/server.js';
import { spawnServer, stopProcess } from '../support/spawn.js';
import { describeOnEachBackend } from '../support/suite.js';

const PASSWORD = 'correct horse battery staple';
const TOTP_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const STRONG = 'urn:example:api-strong';
const MFA = 'urn:tessera:acr:mfa';
const strong = { requirements: [{ step: 'password' }, { anyOf: ['totp'], count: 1 }], acrValues: [STRONG] };

let api: AdminApi;
let adminClientId: string;

async function acrSupported(issuer: string): Promise<string[]> {
  const meta = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as { acr_values_supported: string[] };
  return meta.acr_values_supported;
}

describeOnEachBackend(
  'admin API: flows',
  (ctx) => {
    test('every flow route refuses a missing, expired or under-scoped token', async () => {
      const expired = await expiredAdminToken(ctx().server, adminClientId);
      const routes: [string, string, unknown?][] = [
        ['get', '/flows'],
        ['post', '/flows', { name: 'x', ...strong }],
        ['get', '/flows/password'],
        ['put', '/flows/x', strong],
        ['delete', '/flows/x'],
      ];
      for (const [method, path, body] of routes) {
        const none = await api.call(method, path, { token: null, body });
        assertError(none, 401, 'unauthorized');
        assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer /);
        assertError(await api.call(method, path, { token: expired, body }), 401, 'invalid_token', /expired/);
        if (method !== 'get') assertError(await api.call(method, path, { token: api.tokens.read, body }), 403, 'insufficient_scope', /admin:write/);
      }
      assert.equal((await api.call('get', '/flows/x')).status, 404, 'nothing was created');
    });

    test('config-file flows are listed, read-only, with their acr values', async () => {
      const list = await api.call('get', '/flows', { token: api.tokens.read });
      assert.deepEqual(
        list.body.flows.map((f: { name: string; source: string; acrValues: string[] }) => [f.name, f.source, f.acrValues]),
        [
          ['password', 'config', ['urn:tessera:acr:password']],
          ['mfa', 'config', [MFA]],
        ],
      );
      const mfa = await api.call('get', '/flows/mfa', { token: api.tokens.read });
      assert.deepEqual(mfa.body.requirements, [{ step: 'password' }, { step: 'totp' }]);
      assert.equal(mfa.body.enrollAtLogin, true);
      assertError(await api.call('put', '/flows/mfa', { body: strong }), 409, 'conflict', /configuration file and is read-only/);
      assertError(await api.call('post', '/flows', { body: { name: 'mfa', ...strong } }), 409, 'conflict', /read-only/);
      assertError(await api.call('delete', '/flows/mfa'), 409, 'conflict', /read-only/);
      assertError(await api.call('delete', '/flows/password'), 409, 'conflict', /read-only/);
      assertError(await api.call('get', '/flows/nope'), 404, 'not_found', /flow/);
      assertError(await api.call('delete', '/flows/nope'), 404, 'not_found', /flow/);
    });

    test('invalid flows are refused with the same checks as the config file, and nothing is stored', async () => {
      const bad = async (body: unknown, status: number, error: string, message: RegExp) => assertError(await api.call('post', '/flows', { body }), status, error, message);
      await bad({ name: 'b1', requirements: [{ step: 'password' }, { step: 'retina' }] }, 400, 'invalid_request', /flows\.b1: unknown step retina \(known: password, totp[a-z, ]*\)/);
      await bad({ name: 'b2', requirements: [{ step: 'password' }, { anyOf: ['totp'], count: 2 }] }, 400, 'invalid_request', /flows\.b2\[1\]: count 2 exceeds its 1 steps/);
      await bad({ name: 'b3', requirements: [{ step: 'totp' }] }, 400, 'invalid_request', /flows\.b3: the first requirement must identify the user/);
      await bad({ name: 'b4', requirements: [{ step: 'password' }, { anyOf: ['totp', 'totp'], count: 1 }] }, 400, 'invalid_request', /anyOf lists a step twice/);
      await bad({ name: 'b5', requirements: [{ step: 'password' }], acrValues: [MFA] }, 409, 'conflict', /acr value urn:tessera:acr:mfa is already mapped to flow mfa/);
      await bad({ name: 'b6', requirements: [] }, 400, 'invalid_request', /body\.requirements/);
      await bad({ name: 'b7' }, 400, 'invalid_request', /body\.requirements/);
      await bad({ name: 'b8', requirements: [{ step: 'password', count: 1 }] }, 400, 'invalid_request', /body\.requirements\.0/);
      await bad({ name: 'b9', requirements: [{ step: 'password' }], acrValues: ['two words'] }, 400, 'invalid_request', /body\.acrValues\.0: must not contain spaces/);
      await bad({ name: '-b10', requirements: [{ step: 'password' }] }, 400, 'invalid_request', /flow name/);
      await bad({ name: 'b11', requirements: [{ step: 'password' }], stepUp: true }, 400, 'invalid_request', /body: .*stepUp/);
      assertError(await api.call('put', '/flows/b12', { body: { requirements: [{ step: 'webauthn' }] } }), 400, 'invalid_request', /unknown step webauthn/);
      // Fused requirements: calibrated biometric steps only, each once, at a target FAR in range.
      await bad({ name: 'f1', requirements: [{ step: 'password' }, { fuse: ['face', 'totp'], far: 1e-4 }] }, 400, 'invalid_request', /flows\.f1\[1\]: totp cannot be fused: it has no calibrated score \(steps that can: face, neural\)/);
      await bad({ name: 'f2', requirements: [{ step: 'password' }, { fuse: ['face'], far: 1e-4 }] }, 400, 'invalid_request', /body\.requirements\.1\.fuse: fuse needs at least two steps/);
      await bad({ name: 'f3', requirements: [{ step: 'password' }, { fuse: ['face', 'neural'] }] }, 400, 'invalid_request', /body\.requirements\.1\.far: far \(the target false-accept rate, e\.g\. 1e-4\) is required/);
      await bad({ name: 'f4', requirements: [{ step: 'password' }, { fuse: ['face', 'neural'], far: 0.5 }] }, 400, 'invalid_request', /body\.requirements\.1\.far: far must be at most 0\.01/);
      await bad({ name: 'f5', requirements: [{ step: 'password' }, { step: 'neural' }, { fuse: ['face', 'neural'], far: 1e-4 }] }, 400, 'invalid_request', /neural is fused here and also required elsewhere in the flow/);
      const names = (await api.call('get', '/flows')).body.flows.map((f: { name: string }) => f.name);
      assert.deepEqual(names, ['password', 'mfa']);
    });

    test('a flow created through the API is advertised at once and used by a client in a real login', async () => {
      const { server } = ctx();
      const created = await api.call('post', '/flows', { body: { name: 'api-strong', ...strong } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.headers.get('location'), '/admin/v1/flows/api-strong');
      assert.equal(created.body.source, 'admin');
      assert.deepEqual(created.body.requirements, strong.requirements);
      const fused = { requirements: [{ step: 'password' }, { fuse: ['face', 'neural'], far: 1e-5 }] };
      const fusedFlow = await api.call('put', '/flows/api-fused', { body: fused });
      assert.equal(fusedFlow.status, 201, JSON.stringify(fusedFlow.body));
      assert.deepEqual(fusedFlow.body.requirements, fused.requirements);
      assert.equal((await api.call('delete', '/flows/api-fused')).status, 204);
      assert.equal(created.body.enrollAtLogin, false);
      assertError(await api.call('post', '/flows', { body: { name: 'api-strong', ...strong } }), 409, 'conflict', /already exists/);
      assert.deepEqual(await acrSupported(server.issuer), ['urn:tessera:acr:password', MFA, STRONG]);

      const user = await server.services.accounts.create({ username: 'fay', password: PASSWORD });
      await TotpCredentials.forMasterKey(server.services.db, server.services.masterKey.key).save(user.id, { secret: TOTP_SECRET, algorithm: 'sha1', digits: 6, period: 30 }, 1);
      const client = await api.call('post', '/clients', { body: { name: 'Strong app', redirectUris: ['http://127.0.0.1:9/callback'], firstParty: true, flow: 'api-strong' } });
      assert.equal(client.status, 201, JSON.stringify(client.body));
      assert.equal(client.body.client.metadata.tessera_flow, 'api-strong');
      assertError(await api.call('post', '/clients', { body: { name: 'Lost', redirectUris: ['http://127.0.0.1:9/callback'], flow: 'nope' } }), 400, 'invalid_client_metadata', /tessera_flow must name a flow/);

      // No acr in the request: the client's flow applies, password then TOTP.
      const rp = await discoverRp(server.issuer, client.body.client.clientId, { secret: client.body.clientSecret });
      const browser = new Browser(server.issuer);
      const { verifier, page } = await authorize(rp, browser);
      const totpPage = await browser.submit(page, '/step/password', { username: 'fay', password: PASSWORD });
      assert.match(totpPage.html, /Two-step verification/);
      const done = await browser.submit(totpPage, '/step/totp', { code: await generate({ secret: TOTP_SECRET }) });
      const claims = (await tokensFrom(rp, done, verifier)).claims()!;
      assert.equal(claims.acr, STRONG);
      assert.deepEqual(claims.amr, ['pwd', 'otp']);
    });

    test('PUT creates or replaces; a flow in use cannot be deleted; every change is audited', async () => {
      const { server } = ctx();
      const put = await api.call('put', '/flows/pwd-only', { body: { requirements: [{ step: 'password' }], acrValues: ['urn:example:pwd-only'] } });
      assert.equal(put.status, 201);
      assert.equal(put.headers.get('location'), '/admin/v1/flows/pwd-only');
      const replaced = await api.call('put', '/flows/pwd-only', { body: { requirements: [{ step: 'password' }, { step: 'totp' }], enrollAtLogin: true, acrValues: ['urn:example:pwd-otp'] } });
      assert.equal(replaced.status, 200);
      assert.equal(replaced.body.enrollAtLogin, true);
      assert.deepEqual(replaced.body.acrValues, ['urn:example:pwd-otp']);
      assert.ok(replaced.body.updatedAt >= replaced.body.createdAt);
      const acr = await acrSupported(server.issuer);
      assert.ok(acr.includes('urn:example:pwd-otp') && !acr.includes('urn:example:pwd-only'), 'the replaced acr value is gone from discovery');
      assertError(await api.call('put', '/flows/pwd-only', { body: { requirements: [{ step: 'password' }], acrValues: [STRONG] } }), 409, 'conflict', /already mapped to flow api-strong/);

      assertError(await api.call('delete', '/flows/pwd-only'), 409, 'conflict', /mapped to acr value urn:example:pwd-otp; remove the mapping first/);
      assert.equal((await api.call('put', '/flows/pwd-only', { body: { requirements: [{ step: 'password' }] } })).status, 200);
      const web = await api.call('post', '/clients', { body: { name: 'Uses pwd-only', redirectUris: ['http://127.0.0.1:9/callback'], flow: 'pwd-only' } });
      const clientId = web.body.client.clientId as string;
      assertError(await api.call('delete', '/flows/pwd-only'), 409, 'conflict', new RegExp(`default flow of client ${clientId}`));
      const patched = await api.call('patch', `/clients/${clientId}`, { body: { flow: null } });
      assert.equal(patched.body.metadata.tessera_flow, undefined);
      assert.equal((await api.call('delete', '/flows/pwd-only')).status, 204);
      assertError(await api.call('get', '/flows/pwd-only'), 404, 'not_found');
      assert.ok(!(await acrSupported(server.issuer)).includes('urn:example:pwd-otp'));

      const events = (await api.call('get', '/audit-events?type=admin.flow_updated')).body.events;
      assert.equal(events.length, 2);
      assert.deepEqual(events[0].details, { via: 'admin-api', actor: adminClientId, flow: 'pwd-only', acrValues: [] });
      const kinds = (await api.call('get', `/audit-events?clientId=${adminClientId}&limit=500`)).body.events.map((e: { type: string }) => e.type);
      assert.ok(['admin.flow_created', 'admin.flow_deleted'].every((t) => kinds.includes(t)));
    });

    test('a stored flow that clashes with the config file is listed with its problems and not used', async () => {
      const { server } = ctx();
      // As if the config file had taken this acr value after the flow was stored.
      await new FlowStore(server.services.db).save({ name: 'shadowed', requirements: [{ step: 'password' }], enrollAtLogin: false, acrValues: [MFA] }, { replace: false });
      const listed = await api.call('get', '/flows/shadowed');
      assert.deepEqual(listed.body.problems, ['acr value urn:tessera:acr:mfa is already mapped to flow mfa']);
      const mfaLogin = await api.call('get', '/flows/mfa');
      assert.equal(mfaLogin.body.source, 'config');
      assert.deepEqual((await acrSupported(server.issuer)).filter((v) => v === MFA), [MFA]);
      assert.equal((await api.call('delete', '/flows/shadowed')).status, 204, 'a flow out of use serves no acr value and may go');
    });

    test('another server process on the same database picks up a new flow within seconds', async (t) => {
      const { server } = ctx();
      const port = await freePort();
      const other: ChildProcess = await spawnServer({ ...server.env, LOG_LEVEL: 'warn' }, port);
      try {
        const otherBase = `http://127.0.0.1:${port}`;
        assert.ok(!(await acrSupported(otherBase)).includes('urn:example:late'));
        const started = Date.now();
        assert.equal((await api.call('post', '/flows', { body: { name: 'late', requirements: [{ step: 'password' }], acrValues: ['urn:example:late'] } })).status, 201);
        while (!(await acrSupported(otherBase)).includes('urn:example:late')) {
          assert.ok(Date.now() - started < 8_000, 'the other process did not see the flow within 8 s');
          await new Promise((r) => setTimeout(r, 200));
        }
        t.diagnostic(`seen by the other process after ${Date.now() - started} ms`);
      } finally {
        await stopProcess(other);
      }
    });

    test('every flow operation was exercised successfully and matched its schema', () => {
      const documented = Object.entries(api.doc.paths)
        .filter(([path]) => path.startsWith('/flows'))
        .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
      assert.equal(documented.length, 5);
      assert.deepEqual(documented.filter((op) => !api.succeeded.has(op)), []);
    });
  },
  {
    async setup({ server }) {
      ({ api, adminClientId } = await connectAdminApi(server));
    },
  },
);
