import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectAdminApi } from '../support/admin-api.js';
import { refusalAudited } from '../support/audit.js';
import { Browser } from '../support/browser.js';
import { authorize, pushedAuthorizationUrl, tokensFrom } from '../support/interactive.js';
import { discoverRp, type RpClient } from '../support/rp.js';
import { describeOnEachBackend } from '../support/suite.js';

const PASSWORD = 'correct horse battery staple';
const CREDS = { username: 'pia', password: PASSWORD };

let rp: RpClient;
let strict: RpClient;

/** Signs in on a browser already at the login page the pushed request led to. */
async function signIn(browser: Browser, url: URL) {
  const login = await browser.request(url.href);
  assert.match(login.html, /name="password"/, `expected the login page, got ${login.status}: ${login.html.slice(0, 300)}`);
  return browser.submit(login, '/step/password', CREDS);
}

describeOnEachBackend('pushed authorization requests (RFC 9126)', (ctx) => {
  test('discovery advertises the PAR endpoint; a pushed request signs in and yields tokens', async () => {
    const { server } = ctx();
    const meta = rp.config.serverMetadata();
    assert.equal(meta.pushed_authorization_request_endpoint, `${server.issuer}/request`);
    const { verifier, url } = await pushedAuthorizationUrl(rp, { scope: 'openid profile' });
    assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri'], 'only a reference travels through the browser');
    assert.match(url.searchParams.get('request_uri')!, /^urn:ietf:params:oauth:request_uri:/);
    const tokens = await tokensFrom(rp, await signIn(new Browser(server.issuer), url), verifier);
    assert.ok(tokens.claims()?.sub);
    assert.equal(tokens.scope, 'openid profile');
  });

  test('a client with require_pushed_authorization_requests is refused a front-channel request and served a pushed one', async () => {
    const { server } = ctx();
    const browser = new Browser(server.issuer);
    const { page } = await authorize(strict, browser);
    // The redirect URI is registered, so the error goes back to the RP (RFC 6749 §4.1.2.1).
    const back = new URL(page.leftTo!);
    assert.equal(back.searchParams.get('error'), 'invalid_request');
    assert.match(back.searchParams.get('error_description')!, /Pushed Authorization Request must be used/);
    const { verifier, url } = await pushedAuthorizationUrl(strict);
    assert.ok((await tokensFrom(strict, await signIn(browser, url), verifier)).access_token);
  });

  test('a request_uri works once: a second use is invalid_request_uri, audited, and starts no sign-in', async () => {
    const { server } = ctx();
    const since = Date.now();
    const { verifier, url } = await pushedAuthorizationUrl(rp);
    const browser = new Browser(server.issuer);
    await tokensFrom(rp, await signIn(browser, url), verifier);
    const again = await new Browser(server.issuer).request(url.href);
    assert.equal(new URL(again.leftTo!).searchParams.get('error'), 'invalid_request_uri');
    const refused = await refusalAudited(server, since, { event: 'authorization.error', clientId: rp.config.clientMetadata().client_id, error: 'invalid_request_uri' });
    assert.ok(refused);
    assert.ok(!JSON.stringify(refused).includes(url.searchParams.get('request_uri')!.split(':').pop()!), 'the request_uri is not in the audit trail');
  });

  test('a pushed request with an unregistered redirect_uri is refused at the PAR endpoint and audited', async () => {
    const { server } = ctx();
    const since = Date.now();
    const other = { ...rp, redirectUri: 'http://127.0.0.1:9/elsewhere' };
    await assert.rejects(pushedAuthorizationUrl(other), (err: { error?: string; status?: number }) => {
      assert.equal(err.status, 400);
      assert.equal(err.error, 'invalid_request');
      return true;
    });
    const refused = await refusalAudited(server, since, { event: 'pushed_authorization_request.error', clientId: rp.config.clientMetadata().client_id, error: 'invalid_request' });
    assert.match(String(refused?.details?.description), /redirect_uri/);
  });
}, {
  async setup({ server }) {
    const { clients, accounts } = server.services;
    await accounts.create({ username: CREDS.username, password: PASSWORD });
    const open = await clients.create({ name: 'PAR web', redirectUris: ['http://127.0.0.1:9/callback'], firstParty: true });
    rp = await discoverRp(server.issuer, open.client.clientId, { secret: open.secret });
    // Through the admin API, as an operator would: created without the requirement, then changed to require PAR.
    const { api } = await connectAdminApi(server);
    const created = await api.call('post', '/clients', { body: { name: 'PAR only', redirectUris: ['http://127.0.0.1:9/callback'], firstParty: true } });
    const changed = await api.call('patch', `/clients/${created.body.client.clientId}`, { body: { requirePushedAuthorizationRequests: true } });
    assert.equal(changed.body.metadata.require_pushed_authorization_requests, true);
    strict = await discoverRp(server.issuer, created.body.client.clientId, { secret: created.body.clientSecret });
  },
});
