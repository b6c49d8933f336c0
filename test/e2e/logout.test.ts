import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as jose from 'jose';
import * as oidc from 'openid-client';
import { discoverRp, loginWithPassword, type RpClient } from '../support/rp.js';
import { connectAdminApi } from '../support/admin-api.js';
import { BackchannelReceiver } from '../support/backchannel-receiver.js';
import { describeOnEachBackend } from '../support/suite.js';

const PASSWORD = 'correct horse battery staple';

// The RP's back-channel logout endpoint.
let receiver: BackchannelReceiver;
let received: string[];
let backchannelUri: string;
before(async () => {
  receiver = await BackchannelReceiver.start();
  received = receiver.tokens;
  backchannelUri = receiver.uri;
});
after(() => receiver.close());

let rp: RpClient;

describeOnEachBackend(
  'logout: RP-initiated and back-channel',
  (ctx) => {
    test('RP-initiated logout asks, ends the session, notifies the RP back-channel and returns to the RP', async () => {
      const { server } = ctx();
      received.length = 0;
      const { tokens, browser } = await loginWithPassword(rp, server.issuer, { username: 'carol', password: PASSWORD });
      const endUrl = oidc.buildEndSessionUrl(rp.config, {
        id_token_hint: tokens.id_token!,
        post_logout_redirect_uri: 'http://127.0.0.1:9/signed-out',
        state: 'bye',
      });
      const confirm = await browser.request(endUrl.href);
      assert.equal(confirm.status, 200);
      assert.match(confirm.html, /Sign out\?/);
      const done = await browser.submit(confirm, '/session/end/confirm', { logout: 'yes' });
      assert.equal(done.leftTo, 'http://127.0.0.1:9/signed-out?state=bye');

      assert.equal(received.length, 1, 'one logout token delivered');
      const jwks = jose.createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
      const { payload, protectedHeader } = await jose.jwtVerify(received[0]!, jwks, {
        issuer: server.issuer,
        audience: rp.config.clientMetadata().client_id,
        typ: 'logout+jwt',
      });
      assert.equal(protectedHeader.typ, 'logout+jwt');
      assert.equal(payload.sub, tokens.claims()!.sub);
      assert.equal(payload.sid, tokens.claims()!.sid);
      assert.ok((payload.events as Record<string, unknown>)['http://schemas.openid.net/event/backchannel-logout']);

      // The session is gone: the next authorization shows the login form again.
      const again = await browser.request(
        oidc.buildAuthorizationUrl(rp.config, { redirect_uri: rp.redirectUri, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' }).href,
      );
      assert.match(again.html, /name="password"/);
    });

    test('disabling a user through the admin API ends her sessions and tells the RP back-channel', async () => {
      const { server } = ctx();
      received.length = 0;
      const dora = await server.services.accounts.create({ username: 'dora', password: PASSWORD });
      const { tokens } = await loginWithPassword(rp, server.issuer, { username: 'dora', password: PASSWORD });
      const { api } = await connectAdminApi(server);
      assert.equal((await api.call('patch', `/users/${dora.id}`, { body: { disabled: true } })).status, 200);
      assert.equal(received.length, 1, 'one logout token delivered');
      const jwks = jose.createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
      const { payload } = await jose.jwtVerify(received[0]!, jwks, { issuer: server.issuer, audience: rp.config.clientMetadata().client_id, typ: 'logout+jwt' });
      assert.equal(payload.sub, dora.id);
      assert.equal(payload.sid, tokens.claims()!.sid);
    });

    test('the logout is in the audit log', async () => {
      const { server } = ctx();
      await server.services.audit.flush();
      const events = await server.services.audit.query({ type: 'logout' });
      assert.ok(events.length >= 1);
      assert.equal(events[0]!.outcome, 'success');
      assert.ok(events[0]!.subject);
    });
  },
  {
    env: { TESSERA_OUTBOUND_ALLOWED_HOSTS: '127.0.0.1' },
    async setup({ server }) {
      await server.services.accounts.create({ username: 'carol', password: PASSWORD });
      const c = await server.services.clients.create({
        name: 'RP with logout',
        redirectUris: ['http://127.0.0.1:9/callback'],
        postLogoutRedirectUris: ['http://127.0.0.1:9/signed-out'],
        backchannelLogoutUri: backchannelUri,
        firstParty: true,
      });
      rp = await discoverRp(server.issuer, c.client.clientId, { secret: c.secret });
    },
  },
);
