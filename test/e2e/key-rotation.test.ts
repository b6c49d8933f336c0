import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import * as jose from 'jose';
import * as oidc from 'openid-client';
import { discoverRp } from '../support/rp.js';
import { postToken } from '../support/token-request.js';
import { freePort } from '../support/server.js';
import { runCli, spawnServer, stopProcess } from '../support/spawn.js';
import { describeOnEachBackend } from '../support/suite.js';

const API = 'https://api.example.test';

interface Jwk {
  kid: string;
  alg: string;
}

const kids = async (base: string) => ((await (await fetch(`${base}/jwks`)).json()) as { keys: Jwk[] }).keys;

let clientId: string;
let secret: string;

describeOnEachBackend(
  'signing key rotation across server processes',
  (ctx) => {
    let other: ChildProcess;
    let otherUrl: string;

    before(async () => {
      const { server } = ctx();
      const port = await freePort();
      otherUrl = `http://127.0.0.1:${port}`;
      // Same database, same issuer, same master key: a second replica behind the same name.
      other = await spawnServer({ ...server.env, LOG_LEVEL: 'warn' }, port);
    });
    after(async () => {
      if (other) assert.equal(await stopProcess(other), 0, 'the second process shuts down cleanly on SIGTERM');
    });

    test('both processes publish the same keys: a current and a pre-published next key per algorithm', async () => {
      const { server } = ctx();
      const a = await kids(server.url);
      const b = await kids(otherUrl);
      assert.deepEqual(a.map((k) => k.kid).sort(), b.map((k) => k.kid).sort());
      for (const alg of ['RS256', 'ES256', 'EdDSA']) assert.equal(a.filter((k) => k.alg === alg).length, 2, alg);
      // Published keys are public only.
      const raw = (await (await fetch(`${server.url}/jwks`)).json()) as { keys: Record<string, unknown>[] };
      assert.ok(raw.keys.every((k) => k.d === undefined && k.p === undefined));
    });

    test('`tessera keys rotate` is picked up by both processes without restart; old tokens stay verifiable', async () => {
      const { server } = ctx();
      const rp = await discoverRp(server.issuer, clientId, { secret });
      const before = await oidc.clientCredentialsGrant(rp.config, { resource: API });
      const oldKid = jose.decodeProtectedHeader(before.access_token).kid;

      const cli = await runCli(['keys', 'rotate', '--json'], server.env);
      assert.equal(cli.code, 0, cli.stderr);
      const rotated = JSON.parse(cli.stdout) as { alg: string; retired: string; promoted: string }[];
      const es = rotated.find((r) => r.alg === 'ES256')!;
      assert.equal(es.retired, oldKid);

      // Each process polls every second (TESSERA_KEYS_REFRESH_SECONDS=1).
      const deadline = Date.now() + 8000;
      let seen = false;
      while (!seen && Date.now() < deadline) {
        const [a, b] = [await kids(server.url), await kids(otherUrl)];
        seen = [a, b].every((set) => set.length === 9 && set.some((k) => k.kid === es.promoted) && set.some((k) => k.kid === oldKid));
        if (!seen) await new Promise((r) => setTimeout(r, 250));
      }
      assert.ok(seen, 'both processes publish current, next and retired keys (9 in all)');

      // A token signed by the second process after rotation uses the promoted key and
      // verifies against the first process's JWKS; the pre-rotation token still verifies.
      const viaOther = await postToken(otherUrl, { id: clientId, secret }, { grant_type: 'client_credentials', resource: API });
      assert.equal(viaOther.status, 200);
      const access_token = String(viaOther.body.access_token);
      assert.equal(jose.decodeProtectedHeader(access_token).kid, es.promoted);
      const jwksA = jose.createRemoteJWKSet(new URL(`${server.url}/jwks`));
      await jose.jwtVerify(access_token, jwksA, { issuer: server.issuer, audience: API });
      await jose.jwtVerify(before.access_token, jwksA, { issuer: server.issuer, audience: API });
    });

    test('rotating again before the next key had its publication lead is refused', async () => {
      const { server } = ctx();
      const cli = await runCli(['keys', 'rotate'], { ...server.env, TESSERA_KEY_PUBLISH_LEAD_SECONDS: '3600' });
      assert.equal(cli.code, 1);
      assert.match(cli.stderr, /has been published for \d+s, less than the 3600s lead/);
    });
  },
  {
    env: { TESSERA_KEYS_REFRESH_SECONDS: '1', TESSERA_RESOURCE_SERVERS: JSON.stringify([{ indicator: API, scope: 'api:read' }]) },
    async setup({ server }) {
      const c = await server.services.clients.create({ name: 'Rotation probe', grantTypes: ['client_credentials'] });
      clientId = c.client.clientId;
      secret = c.secret!;
    },
  },
);
