import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sqliteBackend, type Backend } from '../support/backends.js';
import { startTestServer, type TestServer } from '../support/server.js';

// Each OAuth feature is advertised only when it is switched on (the other oauth-* suites run with them on).
describe('OAuth features switched off', () => {
  let backend: Backend;
  let server: TestServer;
  before(async () => {
    backend = await sqliteBackend();
    server = await startTestServer(backend, { TESSERA_PAR: 'false', TESSERA_DPOP: 'false' });
  });
  after(async () => {
    await server.stop();
    await backend.dispose();
  });

  test('discovery lists none of them and their endpoints are gone', async () => {
    const meta = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    for (const key of ['pushed_authorization_request_endpoint', 'dpop_signing_alg_values_supported', 'request_parameter_supported', 'request_object_signing_alg_values_supported', 'registration_endpoint']) assert.equal(meta[key], undefined, key);
    for (const path of ['/request', '/reg']) assert.equal((await fetch(`${server.issuer}${path}`, { method: 'POST' })).status, 404, path);
    // A request object is not read at all: the authorization endpoint says so.
    const authorize = await fetch(`${server.issuer}/auth?client_id=x&request=e30.e30.`, { redirect: 'manual' });
    assert.match(await authorize.text(), /request_not_supported/);
  });
});
