import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import { sqliteBackend, type Backend } from '../support/backends.js';
import { launchChromium, screenshot } from '../support/chromium.js';
import { cutEdf, eegFile } from '../support/eeg.js';
import { authorizationUrl } from '../support/interactive.js';
import { discoverRp, type RpClient } from '../support/rp.js';
import { freePort, startTestServer, type TestServer } from '../support/server.js';

const PASSWORD = 'correct horse battery staple';
const configFile = join(mkdtempSync(join(tmpdir(), 'tessera-neural-page-')), 'tessera.json');
writeFileSync(
  configFile,
  JSON.stringify({
    flows: { password: [{ step: 'password' }], eeg: { requirements: [{ step: 'password' }, { step: 'neural' }], enrollAtLogin: true } },
    defaultFlow: 'eeg',
    acr: { 'urn:tessera:acr:eeg': 'eeg' },
  }),
);

// The page side of device capture in a real browser: the script waits for the device and submits.
describe('neural step page in Chromium: waits for the device, then continues by itself', () => {
  let backend: Backend;
  let server: TestServer;
  let chromium: Browser;
  let rp: RpClient;
  // The relying party's callback: a real listener that keeps the last URL it was sent to.
  let app: Server;
  let callback: URL | undefined;
  let redirectUri = '';

  before(async () => {
    const port = await freePort();
    redirectUri = `http://127.0.0.1:${port}/callback`;
    app = createServer((req, res) => {
      if (req.url!.startsWith('/callback')) callback = new URL(req.url!, redirectUri);
      res.end('back at the app');
    });
    await new Promise<void>((resolve) => app.listen(port, '127.0.0.1', resolve));
    backend = await sqliteBackend();
    server = await startTestServer(backend, { TESSERA_CONFIG: configFile });
    await server.services.accounts.create({ username: 'dora', password: PASSWORD });
    const c = await server.services.clients.create({ name: 'EEG app', redirectUris: [redirectUri], firstParty: true });
    rp = await discoverRp(server.issuer, c.client.clientId, { secret: c.secret }, redirectUri);
    chromium = await launchChromium();
  });
  after(async () => {
    await chromium?.close();
    app?.close();
    await server?.stop();
    await backend?.dispose();
  });

  test('enrollment page: code shown, recording posted by a device, page submits and returns to the app', async () => {
    const page = await chromium.newPage();
    const problems: string[] = [];
    // Console errors (CSP violations among them), except the resource failures judged below.
    page.on('console', (m) => (m.type() === 'error' && !m.text().startsWith('Failed to load resource') ? problems.push(m.text()) : undefined));
    page.on('response', (r) => (r.status() >= 400 && !r.url().endsWith('/favicon.ico') ? problems.push(`${r.status()} ${r.url()}`) : undefined));
    page.on('pageerror', (e) => problems.push(e.message));
    const { verifier, url } = await authorizationUrl(rp);
    await page.goto(url.href);
    await page.fill('#username', 'dora');
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForSelector('#capture-code');
    assert.equal(await page.textContent('#page-title'), 'Set up brain-signal sign-in');
    assert.match((await page.textContent('#capture-status'))!, /Waiting for the recording/);
    await screenshot(page, 'neural', '01-enroll-waiting');

    const code = (await page.textContent('#capture-code'))!;
    const sent = await fetch(`${server.issuer}/capture/${code}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: cutEdf(eegFile(23, 1), 0, 60) });
    assert.equal(sent.status, 202);
    await page.waitForURL((u) => u.href.startsWith(redirectUri), { timeout: 15_000 });
    assert.equal(callback?.searchParams.get('state'), 'st');
    const tokens = await oidc.authorizationCodeGrant(rp.config, callback!, { pkceCodeVerifier: verifier, expectedState: 'st' });
    assert.deepEqual(tokens.claims()!.amr, ['pwd', 'eeg']);
    assert.deepEqual(problems, [], 'no script errors or CSP violations');
  });
});
