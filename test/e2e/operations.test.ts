import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import Koa from 'koa';
import * as oidc from 'openid-client';
import { healthRouter } from '../../src/http/health.js';
import { PROJECT_ROOT } from '../../src/paths.js';
import { sqliteBackend, type Backend } from '../support/backends.js';
import { Browser } from '../support/browser.js';
import { discoverRp, type RpClient } from '../support/rp.js';
import { freePort, startTestServer, type TestServer } from '../support/server.js';

describe('operations: headers, proxies, health, logs, shutdown', () => {
  let backend: Backend;
  let server: TestServer;
  let rp: RpClient;

  before(async () => {
    backend = await sqliteBackend();
    server = await startTestServer(backend, { TRUST_PROXY: 'true' });
    await server.services.accounts.create({ username: 'opal', password: 'long enough pw' });
    const c = await server.services.clients.create({ name: 'Ops', redirectUris: ['http://127.0.0.1:9/callback'] });
    rp = await discoverRp(server.issuer, c.client.clientId, { secret: c.secret });
  });
  after(async () => {
    await server?.stop();
    await backend?.dispose();
  });

  const loginPage = async (browser: Browser, headers?: Record<string, string>) => {
    const url = oidc.buildAuthorizationUrl(rp.config, { redirect_uri: rp.redirectUri, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
    return browser.request(url.href, { headers });
  };

  test('pages are self-contained and protected against framing and caching', async () => {
    const page = await loginPage(new Browser(server.issuer));
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy')!, /default-src 'none'.*frame-ancestors 'none'/);
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.equal(page.headers.get('cache-control'), 'no-store');
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.ok(!/(src|href)="(https?:)?\/\//.test(page.html), 'no external assets');
    assert.match(page.html, /<label for="username">/);
    assert.match(page.html, /<html lang="en">/);
    const css = await fetch(`${server.issuer}/static/tessera.css`);
    assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
    assert.ok(!(await css.text()).includes('url(http'));
  });

  test('behind a trusted proxy: X-Forwarded-For is the client IP, X-Forwarded-Proto makes cookies Secure', async () => {
    const browser = new Browser(server.issuer);
    const proxied = { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' };
    const page = await loginPage(browser, proxied);
    const res = await browser.submit(page, '/step/password', { username: 'opal', password: 'wrong password' }, proxied);
    assert.equal(res.status, 401);
    await server.services.audit.flush();
    const [failed] = await server.services.audit.query({ type: 'login.failed' });
    assert.equal(failed?.ip, '203.0.113.7');
    const authUrl = oidc.buildAuthorizationUrl(rp.config, { redirect_uri: rp.redirectUri, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
    const viaProxy = await fetch(authUrl, { headers: proxied, redirect: 'manual' });
    const direct = await fetch(authUrl, { redirect: 'manual' });
    assert.ok(viaProxy.headers.getSetCookie().length > 0);
    assert.ok(viaProxy.headers.getSetCookie().every((c) => /;\s*secure/i.test(c)), 'Secure cookies over https');
    assert.ok(direct.headers.getSetCookie().every((c) => !/;\s*secure/i.test(c)), 'plain http on loopback');
  });

  test('request ids are echoed (or generated) for log correlation', async () => {
    const given = await fetch(`${server.issuer}/healthz`, { headers: { 'x-request-id': 'trace-123' } });
    assert.equal(given.headers.get('x-request-id'), 'trace-123');
    const made = await fetch(`${server.issuer}/healthz`, { headers: { 'x-request-id': 'bad id with spaces' } });
    assert.match(made.headers.get('x-request-id')!, /^[0-9a-f-]{36}$/);
  });

  test('/healthz and /readyz report on the process and its stores', async () => {
    assert.deepEqual(await (await fetch(`${server.issuer}/healthz`)).json(), { status: 'ok' });
    assert.deepEqual(await (await fetch(`${server.issuer}/readyz`)).json(), { status: 'ok', checks: { database: 'ok' } });
    // A Redis that is not there makes the process not ready.
    const port = await freePort();
    const deadRedis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    deadRedis.on('error', () => {});
    const app = new Koa();
    app.use(healthRouter(server.services.db, deadRedis, () => false).routes());
    const probe = app.listen(0, '127.0.0.1');
    await new Promise((r) => probe.once('listening', r));
    const res = await fetch(`http://127.0.0.1:${(probe.address() as { port: number }).port}/readyz`);
    assert.equal(res.status, 503);
    const body = (await res.json()) as { checks: Record<string, string> };
    assert.equal(body.checks.database, 'ok');
    assert.match(body.checks.redis!, /^failed/);
    probe.close();
    deadRedis.disconnect();
  });
});

describe('process lifecycle', () => {
  test('start-up names issuer, storage and discovery URL; SIGTERM lets an in-flight request finish', async () => {
    const backend = await sqliteBackend();
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...backend.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    try {
      const deadline = Date.now() + 20_000;
      while (!stderr.includes('discovery:') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.match(stderr, /Tessera issuer http:\/\/localhost:\d+/);
      assert.match(stderr, /storage: +SQLite \(.*tessera\.sqlite\); sessions, codes and counters in SQL/);
      assert.match(stderr, /discovery: http:\/\/localhost:\d+\/\.well-known\/openid-configuration/);
      // Each line on stdout is a JSON log record.
      for (const line of stdout.trim().split('\n')) assert.doesNotThrow(() => JSON.parse(line), line);

      // A request whose body is still arriving when SIGTERM comes in must still get its answer.
      const body = 'grant_type=client_credentials&client_id=nobody';
      const req = request({ host: '127.0.0.1', port, path: '/token', method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length } });
      const answered = new Promise<number>((resolve, reject) => {
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
      });
      req.write(body.slice(0, 10));
      // Give the server ample time to accept the connection and start reading the body.
      await new Promise((r) => setTimeout(r, 1000));
      child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      req.end(body.slice(10));
      assert.equal(await answered, 401, 'the in-flight request was answered (unknown client)');
      const code = await new Promise((r) => child.once('exit', r));
      assert.equal(code, 0);
      assert.match(stdout, /shutting down: finishing in-flight requests/);
    } finally {
      child.kill('SIGKILL');
      await backend.dispose();
    }
  });

  test('invalid configuration stops the server with a clear message', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: PROJECT_ROOT, env: { ...process.env, PORT: 'nope', REDIS_URL: 'http://x' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    const code = await new Promise((r) => child.once('exit', r));
    assert.equal(code, 2);
    assert.match(stderr, /Invalid configuration:\n  - PORT \(port\)/);
    assert.match(stderr, /REDIS_URL must start with redis:\/\//);
  });
});
