import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { get } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { PROJECT_ROOT } from '../../src/paths.js';
import { postgresRedisBackend, REDIS_URL, sqliteBackend, type Backend } from '../support/backends.js';
import { Browser } from '../support/browser.js';
import { discoverRp, loginWithPassword } from '../support/rp.js';
import { freePort, startTestServer, type TestServer } from '../support/server.js';
import { spawnServer, stopProcess } from '../support/spawn.js';

const TOKEN = 'scrape-token-0123456789abcdef';
const PASSWORD = 'metrics are counted';

/** A TCP relay to the real Redis that can stop answering (a network partition, not a closed port). */
async function redisRelay(): Promise<{ url: string; blackhole(): void; close(): void }> {
  const target = new URL(REDIS_URL);
  const sockets: Socket[] = [];
  let cut = false;
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 6379), target.hostname);
    sockets.push(client, upstream);
    client.on('data', (chunk) => cut || upstream.write(chunk));
    upstream.on('data', (chunk) => cut || client.write(chunk));
    for (const s of [client, upstream]) s.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `redis://127.0.0.1:${(server.address() as { port: number }).port}`,
    blackhole: () => (cut = true),
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

const scrape = (url: string, token?: string) => fetch(`${url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

/** The value of one sample line, e.g. `tessera_sign_ins_total{flow="password",...}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics and readiness on PostgreSQL + Redis, token on the main port', () => {
  let backend: Backend;
  let server: TestServer;
  let relay: Awaited<ReturnType<typeof redisRelay>>;

  before(async () => {
    backend = await postgresRedisBackend();
    relay = await redisRelay();
    server = await startTestServer(backend, { REDIS_URL: relay.url, TESSERA_METRICS_TOKEN: TOKEN });
    await server.services.accounts.create({ username: 'mira', password: PASSWORD });
  });
  after(async () => {
    await server?.stop();
    relay?.close();
    await backend?.dispose();
  });

  test('a bearer token guards /metrics', async () => {
    assert.equal((await scrape(server.issuer)).status, 401);
    const wrong = await scrape(server.issuer, `${TOKEN}x`);
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('www-authenticate'), 'Bearer realm="metrics"');
    assert.equal((await scrape(server.issuer, TOKEN)).status, 200);
  });

  test('grants, sign-in steps, routes and stores show up with their labels', async () => {
    const machine = await server.services.clients.create({ name: 'Job', grantTypes: ['client_credentials'] });
    const web = await server.services.clients.create({ name: 'Web', redirectUris: ['http://127.0.0.1:9/callback'] });
    await oidc.clientCredentialsGrant((await discoverRp(server.issuer, machine.client.clientId, { secret: machine.secret })).config, {});
    const rp = await discoverRp(server.issuer, web.client.clientId, { secret: web.secret });
    const browser = new Browser(server.issuer);
    const url = oidc.buildAuthorizationUrl(rp.config, { redirect_uri: rp.redirectUri, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
    const page = await browser.request(url.href);
    assert.equal((await browser.submit(page, '/step/password', { username: 'mira', password: 'not the password' })).status, 401);
    await loginWithPassword(rp, server.issuer, { username: 'mira', password: PASSWORD });

    const res = await scrape(server.issuer, TOKEN);
    assert.match(res.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.equal(sample(text, 'tessera_tokens_issued_total{grant_type="client_credentials"}'), 1);
    assert.equal(sample(text, 'tessera_tokens_issued_total{grant_type="authorization_code"}'), 1);
    assert.equal(sample(text, 'tessera_sign_ins_total{flow="password",step="password",outcome="success"}'), 1);
    assert.equal(sample(text, 'tessera_sign_ins_total{flow="password",step="password",outcome="failure"}'), 1);
    assert.ok(sample(text, 'tessera_http_request_duration_seconds_count{method="POST",route="/interaction/:uid/step/:step",status="401"}') === 1);
    assert.ok(sample(text, 'tessera_http_request_duration_seconds_count{method="POST",route="/token",status="200"}')! >= 2);
    assert.ok(sample(text, 'tessera_http_request_duration_seconds_count{method="GET",route="/auth",status="303"}')! >= 1);
    assert.ok(!/route="\/interaction\/[A-Za-z0-9_-]{10,}/.test(text), 'no raw interaction ids as labels');
    assert.equal(sample(text, 'tessera_redis_up'), 1);
    assert.ok(sample(text, 'tessera_db_pool_connections{state="free"}')! >= 0);
    assert.match(text, /^tessera_signing_key_age_seconds\{kid="[^"]+",alg="ES256",state="current"\} \d/m);

    // Every metric the Grafana dashboard plots is one /metrics exports.
    const dashboard = JSON.parse(readFileSync(join(PROJECT_ROOT, 'docs/grafana-dashboard.json'), 'utf8')) as { panels: { targets: { expr: string }[] }[] };
    const exported = new Set([...text.matchAll(/^# TYPE (\S+) (\S+)/gm)].flatMap(([, name, type]) => (type === 'histogram' ? [`${name}_bucket`, `${name}_count`, `${name}_sum`] : [name!])));
    const plotted = dashboard.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/\b(tessera|process)_[a-z_]+/g) ?? []));
    assert.ok(plotted.length >= 9);
    for (const name of plotted) assert.ok(exported.has(name), `${name} is exported`);
  });

  test('a lock-out and the attempt refused under it are counted', async () => {
    const { config } = server;
    await server.services.accounts.create({ username: 'lockme', password: PASSWORD });
    const web = await server.services.clients.create({ name: 'Lock', redirectUris: ['http://127.0.0.1:9/callback'] });
    const rp = await discoverRp(server.issuer, web.client.clientId, { secret: web.secret });
    const browser = new Browser(server.issuer);
    const url = oidc.buildAuthorizationUrl(rp.config, { redirect_uri: rp.redirectUri, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
    const page = await browser.request(url.href);
    for (let i = 0; i < config.login.maxFailuresPerAccount; i++) await browser.submit(page, '/step/password', { username: 'lockme', password: 'wrong' });
    assert.equal((await browser.submit(page, '/step/password', { username: 'lockme', password: PASSWORD })).status, 429);
    const text = await (await scrape(server.issuer, TOKEN)).text();
    assert.equal(sample(text, 'tessera_lockouts_total{event="login.locked_out",scope="account"}'), 1);
    assert.equal(sample(text, 'tessera_throttled_attempts_total{event="login.failed",scope="account"}'), 1);
    assert.equal(sample(text, 'tessera_sign_ins_total{flow="password",step="password",outcome="throttled"}'), 1);
  });

  test('/readyz answers 503 within its timeout when Redis stops answering', async () => {
    assert.equal((await fetch(`${server.issuer}/readyz`)).status, 200);
    relay.blackhole();
    const started = Date.now();
    const res = await fetch(`${server.issuer}/readyz`);
    assert.equal(res.status, 503);
    assert.ok(Date.now() - started < 4000, 'bounded by the check timeout');
    const body = (await res.json()) as { status: string; checks: Record<string, string> };
    assert.equal(body.status, 'unavailable');
    assert.equal(body.checks.database, 'ok');
    assert.match(body.checks.redis!, /^failed: timed out/);
  });
});

describe('metrics on a separate port (SQLite)', () => {
  let backend: Backend;
  let server: TestServer;
  before(async () => {
    backend = await sqliteBackend();
    server = await startTestServer(backend, { TESSERA_METRICS_PORT: String(await freePort()) });
  });
  after(async () => {
    await server?.stop();
    await backend?.dispose();
  });

  test('/metrics is served only on its own port, open without a token', async () => {
    assert.ok(server.metricsUrl);
    const res = await scrape(server.metricsUrl);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /^tessera_db_pool_connections\{state="used"\} \d/m);
    assert.ok(!text.includes('tessera_redis_up'), 'no Redis configured, no Redis gauge');
    assert.equal((await scrape(server.issuer)).status, 404);
    assert.equal((await fetch(`${server.metricsUrl}/healthz`)).status, 404);
  });
});

describe('metrics of a cluster (TESSERA_WORKERS=2)', () => {
  test('the primary serves the sum of its workers\' registries on the metrics port', async () => {
    const backend = await postgresRedisBackend();
    const [port, metricsPort] = [await freePort(), await freePort()];
    const child = await spawnServer(
      { ...backend.env, HOST: '127.0.0.1', ISSUER: `http://127.0.0.1:${port}`, LOG_LEVEL: 'silent', TESSERA_MASTER_KEY: randomBytes(32).toString('base64'), TESSERA_WORKERS: '2', TESSERA_METRICS_PORT: String(metricsPort), TESSERA_METRICS_TOKEN: TOKEN },
      port,
    );
    try {
      const metricsUrl = `http://127.0.0.1:${metricsPort}`;
      // Until both workers have started, the primary cannot collect every registry: 503.
      let ready = await scrape(metricsUrl, TOKEN);
      for (let i = 0; i < 50 && ready.status !== 200; i++) {
        assert.equal(ready.status, 503);
        await new Promise((r) => setTimeout(r, 200));
        ready = await scrape(metricsUrl, TOKEN);
      }
      assert.equal(ready.status, 200);
      // A connection each: the primary deals them out to both workers in turn.
      const requests = 6;
      for (let i = 0; i < requests; i++) {
        await new Promise<void>((resolve, reject) => get({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => res.resume().on('end', resolve)).on('error', reject));
      }
      assert.equal((await scrape(metricsUrl)).status, 401);
      const text = await (await scrape(metricsUrl, TOKEN)).text();
      assert.equal(sample(text, 'tessera_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"}'), requests);
      assert.equal(sample(text, 'tessera_redis_up'), 1);
      assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`)).status, 404);
      assert.equal(await stopProcess(child), 0);
    } finally {
      child.kill('SIGKILL');
      await backend.dispose();
    }
  });
});
