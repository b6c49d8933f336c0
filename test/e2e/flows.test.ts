import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Browser } from '../support/browser.js';
import { authorize, tokensFrom } from '../support/interactive.js';
import { discoverRp, type RpClient } from '../support/rp.js';
import { describeOnEachBackend } from '../support/suite.js';

const PASSWORD = 'correct horse battery staple';
const STRICT = 'urn:example:strict';

// A flow that requires TOTP without allowing enrollment during sign-in.
const configFile = join(mkdtempSync(join(tmpdir(), 'tessera-flows-')), 'tessera.json');
writeFileSync(
  configFile,
  JSON.stringify({
    flows: { password: [{ step: 'password' }], strict: [{ step: 'password' }, { step: 'totp' }] },
    defaultFlow: 'password',
    acr: { 'urn:tessera:acr:password': 'password', [STRICT]: 'strict' },
  }),
);

let rp: RpClient;
let strictRp: RpClient;

describeOnEachBackend(
  'configured flows: client default flow and refusal when a required step is not enrolled',
  (ctx) => {
    test('an acr whose flow needs an unenrolled step ends in a clear refusal, then the protocol error', async () => {
      const browser = new Browser(ctx().server.issuer);
      const { page } = await authorize(rp, browser, { acr_values: STRICT });
      const refused = await browser.submit(page, '/step/password', { username: 'nina', password: PASSWORD });
      assert.equal(refused.status, 403);
      assert.match(refused.html, /requires totp, which is not set up for your account/);
      const back = await browser.submit(refused, '/abort');
      const url = new URL(back.leftTo!);
      assert.equal(url.searchParams.get('error'), 'unmet_authentication_requirements');
      assert.equal(url.searchParams.get('state'), 'st');
    });

    test("a client's tessera_flow applies when the request names no acr", async () => {
      const browser = new Browser(ctx().server.issuer);
      const { page } = await authorize(strictRp, browser);
      const refused = await browser.submit(page, '/step/password', { username: 'nina', password: PASSWORD });
      assert.equal(refused.status, 403);
      // The same user signs in to a client on the default flow.
      const other = new Browser(ctx().server.issuer);
      const { verifier, page: login } = await authorize(rp, other);
      const done = await other.submit(login, '/step/password', { username: 'nina', password: PASSWORD });
      assert.deepEqual((await tokensFrom(rp, done, verifier)).claims()!.amr, ['pwd']);
    });
  },
  {
    env: { TESSERA_CONFIG: configFile },
    async setup({ server }) {
      await server.services.accounts.create({ username: 'nina', password: PASSWORD });
      const c = await server.services.clients.create({ name: 'Default flow', redirectUris: ['http://127.0.0.1:9/callback'], firstParty: true });
      rp = await discoverRp(server.issuer, c.client.clientId, { secret: c.secret });
      const s = await server.services.clients.create({ name: 'Strict app', redirectUris: ['http://127.0.0.1:9/callback'], firstParty: true, extra: { tessera_flow: 'strict' } });
      strictRp = await discoverRp(server.issuer, s.client.clientId, { secret: s.secret });
    },
  },
);
