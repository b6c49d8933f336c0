// The real capture page in headless Chromium: a fake camera plays a clip of a head turning left,
// back and then right (built at test time from LFW photos of one person), the page guides through
// the two movements, captures the burst with its capture times and uploads it.
// Enrollment during sign-in, then a face sign-in with a second clip of other photos; and the same
// page setting a face up in the account console. SQLite only.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as oidc from 'openid-client';
import type { Page } from 'playwright-core';
import { sqliteBackend, type Backend } from '../support/backends.js';
import { launchChromium, screenshot } from '../support/chromium.js';
import { BurstBuilder, CLIP, leftThenRightClip, posedPhotos } from '../support/face-images.js';
import { authorizationUrl } from '../support/interactive.js';
import { discoverRp, type RpClient } from '../support/rp.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { PAD_OFF_FOR_LFW_BURSTS, sharedDataDir, sharedPipeline } from '../unit/face-support.js';

const PASSWORD = 'correct horse battery staple';
const FACE = 'urn:tessera:acr:face';
// Nothing listens there: the test takes the code from the browser's request (Chromium refuses port 9).
const CALLBACK = 'http://127.0.0.1:8788/callback';

let backend: Backend;
let server: TestServer;
let rp: RpClient;
let dir: string;
const clips: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-face-browser-'));
  const configFile = join(dir, 'tessera.json');
  writeFileSync(configFile, JSON.stringify({
    flows: { password: [{ step: 'password' }], face: { requirements: [{ step: 'password' }, { step: 'face' }], enrollAtLogin: true } },
    acr: { 'urn:tessera:acr:password': 'password', [FACE]: 'face' },
  }));
  const photos = await posedPhotos(await sharedPipeline(), join(sharedDataDir(), 'faces-lfw-dev', 'Junichiro_Koizumi'));
  const builder = new BurstBuilder(photos);
  for (const name of ['enroll', 'login']) {
    const file = join(dir, `${name}.y4m`);
    writeFileSync(file, await leftThenRightClip(builder));
    clips.push(file);
  }
  backend = await sqliteBackend();
  // The clips turn left, then right: this server asks for the turns only (two movements, the default).
  server = await startTestServer(backend, { TESSERA_CONFIG: configFile, TESSERA_FACE_CHALLENGES: 'turn_left,turn_right', ...PAD_OFF_FOR_LFW_BURSTS });
  await server.services.accounts.create({ username: 'cam', password: PASSWORD });
  const c = await server.services.clients.create({ name: 'Camera app', redirectUris: [CALLBACK], firstParty: true });
  rp = await discoverRp(server.issuer, c.client.clientId, { secret: c.secret });
});

after(async () => {
  await server?.stop();
  await backend?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** Waits until the fake camera's clip starts over (its corner marker turns white). */
async function clipStart(page: Page) {
  // Runs in the page (typed loosely: this project compiles without the DOM library).
  const markerAppeared = () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const w = globalThis as any;
    const canvas = w.document.createElement('canvas');
    canvas.width = 8;
    canvas.height = 8;
    const g = canvas.getContext('2d');
    g.drawImage(w.document.querySelector('video'), 0, 0, 8, 8, 0, 0, 8, 8);
    const bright = g.getImageData(2, 2, 1, 1).data[0] > 128;
    const started = bright && w.markerWasDark === true;
    w.markerWasDark = !bright;
    return started;
  };
  await page.waitForFunction(markerAppeared, undefined, { polling: 20, timeout: 10_000 });
}

/**
 * Opens a browser whose camera plays `clip`, goes to `url`, signs in as `username` with the
 * password, does `then` (e.g. asks for the set-up), and starts the camera on the face page.
 */
async function withCamera(clip: string, url: string, username: string, then?: (page: Page) => Promise<void>) {
  const browser = await launchChromium(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${clip}`]);
  const page = await browser.newPage();
  await page.goto(url);
  await page.fill('#username', username);
  await page.fill('#password', PASSWORD);
  await page.click('button[type=submit]');
  await then?.(page);
  await page.waitForSelector('#face-start');
  // Each showing of the page is a new random challenge: show it until it is the clip's.
  // (The page was the answer to a form submission: it is fetched again at its own address.)
  for (let i = 0; i < 20 && (await page.getAttribute('#instruction', 'data-challenge')) !== 'turn_left turn_right'; i++) {
    await page.goto(new URL((await page.getAttribute('#face-form', 'data-page'))!, page.url()).href);
  }
  assert.match((await page.textContent('#instruction')) ?? '', /turn your head to your left, then turn your head to your right/);
  await page.click('#face-start');
  await page.locator('#face-status', { hasText: 'Camera on' }).waitFor();
  return { browser, page };
}

/** Signs in to the test application up to its face page, camera on. */
async function toFacePage(clip: string) {
  const { verifier, url } = await authorizationUrl(rp, { redirect_uri: CALLBACK, acr_values: FACE });
  return { ...(await withCamera(clip, url.href, 'cam')), verifier };
}

/** Presses "Capture" as the clip starts, so the burst sees the head face the camera, then turn left, come back and turn right. */
async function capture(page: Page) {
  await clipStart(page);
  await page.click('#face-start');
}

/** Waits for the page to follow the server's answer back to the application; returns the ID token claims. */
async function backAtApplication(page: Page, verifier: string, shot: string) {
  // Nothing listens at the callback: the code is taken from the browser's request.
  const callback = await page.waitForRequest((r) => r.url().startsWith(CALLBACK), { timeout: 20_000 }).catch(async (error: Error) => {
    await screenshot(page, 'face', `${shot}-failed`);
    throw new Error(`${error.message}; page says: ${await page.locator('#face-error').textContent({ timeout: 1000 }).catch(() => '?')}`);
  });
  const tokens = await oidc.authorizationCodeGrant(rp.config, new URL(callback.url()), { pkceCodeVerifier: verifier, expectedState: 'st' });
  return tokens.claims()!;
}

test('the capture page enrolls a face during sign-in, refuses a replay with a retry message, then signs in', async () => {
  assert.equal(CLIP.fps, 10);
  const enroll = await toFacePage(clips[0]!);
  try {
    assert.match((await enroll.page.textContent('h1')) ?? '', /Set up face sign-in/);
    await screenshot(enroll.page, 'face', '01-enroll-camera');
    await capture(enroll.page);
    assert.deepEqual((await backAtApplication(enroll.page, enroll.verifier, '01-enroll')).amr, ['pwd', 'face']);
  } finally {
    await enroll.browser.close();
  }
  const account = await server.services.accounts.findByUsername('cam');
  assert.ok((await server.services.db('face_templates').where({ account_id: account!.id })).length >= 3);

  // The same clip again is a replay of the enrollment's frames: refused, with a fresh challenge to retry.
  const replay = await toFacePage(clips[0]!);
  try {
    assert.match((await replay.page.textContent('h1')) ?? '', /Face check/);
    const challenge = await replay.page.inputValue('input[name=challenge]');
    await capture(replay.page);
    await replay.page.locator('#face-status', { hasText: 'Try again' }).waitFor({ timeout: 20_000 });
    assert.match((await replay.page.textContent('#face-error')) ?? '', /sent before/);
    assert.notEqual(await replay.page.inputValue('input[name=challenge]'), challenge, 'a new challenge for the retry');
    await screenshot(replay.page, 'face', '02-replay-refused');
  } finally {
    await replay.browser.close();
  }

  const login = await toFacePage(clips[1]!);
  try {
    await screenshot(login.page, 'face', '03-login-camera');
    await capture(login.page);
    assert.deepEqual((await backAtApplication(login.page, login.verifier, '03-login')).amr, ['pwd', 'face']);
  } finally {
    await login.browser.close();
  }
});

test('the same capture page sets a face up in the account console', async () => {
  const account = await server.services.accounts.create({ username: 'console', password: PASSWORD });
  const { browser, page } = await withCamera(clips[1]!, `${server.issuer}/account/factors`, 'console', (p) => p.click('#factor-face button[type=submit]'));
  try {
    assert.match(new URL(page.url()).pathname, /^\/account\/factors\/face\/setup\/[A-Za-z0-9_-]{32}$/);
    await screenshot(page, 'face', '04-console-enroll-camera');
    await capture(page);
    await page.waitForURL(/\/account\/factors\?done=enrolled$/, { timeout: 20_000 }).catch(async (error: Error) => {
      await screenshot(page, 'face', '04-console-enroll-failed');
      throw new Error(`${error.message}; page says: ${await page.locator('#face-error').textContent({ timeout: 1000 }).catch(() => '?')}`);
    });
    assert.equal(await page.textContent('#factor-face .badge'), 'set up');
    await screenshot(page, 'face', '05-console-enrolled');
  } finally {
    await browser.close();
  }
  assert.ok((await server.services.db('face_templates').where({ account_id: account.id })).length >= 3);
});
