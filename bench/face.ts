// The face part of `npm run bench`: verification latency and throughput on the worker thread the
// server uses, and one server process's RSS without the face models, with them loaded, after
// face sign-ins (enrollment + logins through the JSON upload API, bursts built from LFW photos),
// and with the neural model loaded instead.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancelableScheme, type StoredTemplate } from '../src/biometrics/cancelable/index.js';
import { FacePipeline, FaceWorker, MODEL_FILES, matchAgainst } from '../src/biometrics/face/index.js';
import { PadModel } from '../src/biometrics/face/pad.js';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../src/log.js';
import { MODELS_DIR, PROJECT_ROOT } from '../src/paths.js';
import { openServices } from '../src/services.js';
import { Browser } from '../test/support/browser.js';
import { BurstBuilder, challengeOn, liveCaptureTimes, posedPhotos } from '../test/support/face-images.js';
import { authorize, tokensFrom } from '../test/support/interactive.js';
import { discoverRp } from '../test/support/rp.js';
import { freePort } from '../test/support/server.js';
import { identityImages, PAD_OFF_FOR_LFW_BURSTS, sharedDataDir } from '../test/unit/face-support.js';
import { rssMb } from './processes.js';

const log = (msg: string) => process.stderr.write(`bench: ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quantile = (sorted: number[], q: number) => Number(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(1));
const PASSWORD = 'bench password 123';
const FACE_ACR = 'urn:tessera:acr:face';
// Verification compares with a cancelable template, as the face step does.
const scheme = new CancelableScheme(randomBytes(32), 'face');

/** Verifications (decode → decision, one frame) for `seconds` with `concurrency` in flight. */
async function verificationLoad(worker: FaceWorker, probes: Buffer[], enrolled: StoredTemplate[], concurrency: number, seconds: number) {
  const times: number[] = [];
  const until = Date.now() + seconds * 1000;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) {
        const probe = probes[next++ % probes.length]!;
        const t = performance.now();
        matchAgainst((await worker.analyse(probe)).embedding, enrolled, scheme);
        times.push(performance.now() - t);
      }
    }),
  );
  times.sort((a, b) => a - b);
  return { concurrency, framesPerSecond: Number((times.length / seconds).toFixed(1)), p50Ms: quantile(times, 0.5), p95Ms: quantile(times, 0.95) };
}

async function startServer(env: Record<string, string>) {
  const server = spawn(process.execPath, ['dist/src/main.js'], { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(`${env.ISSUER}/readyz`)).ok) break;
    } catch {
      // starting
    }
    await sleep(200);
  }
  await sleep(1000);
  return {
    rss: () => rssMb(server.pid!),
    stop: () => new Promise((r) => server.once('exit', r).kill('SIGTERM')),
  };
}

/** The PAD model alone on aligned chips of the probes, one frame per run, as the pipeline calls it. */
async function padLatency(probes: Buffer[]) {
  const pipeline = await FacePipeline.create(MODELS_DIR);
  const chips = await Promise.all(probes.map(async (p) => (await pipeline.crop(p)).chip));
  const pad = await PadModel.create(join(MODELS_DIR, MODEL_FILES.pad), 1);
  const times: number[] = [];
  for (let round = 0; round < 10; round++) {
    for (const chip of chips) {
      const t = performance.now();
      await pad.scores([chip]);
      times.push(performance.now() - t);
    }
  }
  times.sort((a, b) => a - b);
  return { frames: times.length, p50Ms: quantile(times, 0.5), p95Ms: quantile(times, 0.95) };
}

export async function benchFace(seconds: number) {
  const worker = await FaceWorker.create(MODELS_DIR);
  const people = await identityImages('faces-lfw-dev', 40, 2);
  const enrolled: StoredTemplate[] = [{ kind: 'cancelable', template: scheme.issue((await worker.analyse(await readFile(people[0]!.files[0]!))).embedding) }];
  const probes = await Promise.all(people.map((p) => readFile(p.files[1]!)));
  for (const probe of probes.slice(0, 5)) await worker.analyse(probe); // warm-up
  const verification = [];
  for (const concurrency of [1, 2]) {
    log(`face verification on one worker, concurrency ${concurrency}, ${seconds}s`);
    verification.push(await verificationLoad(worker, probes, enrolled, concurrency, seconds));
  }
  log('PAD model alone, one frame at a time');
  const pad = await padLatency(probes);
  const lfw = join(sharedDataDir(), 'faces-lfw-dev');
  const bursts = new BurstBuilder(await posedPhotos(worker, join(lfw, 'Junichiro_Koizumi')));
  await worker.close();

  // One server process on SQLite; the face flow makes it load the models at start-up.
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-face-'));
  const configFile = join(dir, 'tessera.json');
  writeFileSync(configFile, JSON.stringify({
    flows: { password: [{ step: 'password' }], face: { requirements: [{ step: 'password' }, { step: 'face' }], enrollAtLogin: true } },
    acr: { 'urn:tessera:acr:password': 'password', [FACE_ACR]: 'face' },
  }));
  const port = await freePort();
  const env = { PORT: String(port), HOST: '127.0.0.1', ISSUER: `http://127.0.0.1:${port}`, DATA_DIR: dir, TESSERA_MASTER_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'warn', TESSERA_FACE_CHALLENGES: 'turn_left,turn_right', ...PAD_OFF_FOR_LFW_BURSTS };
  const services = await openServices(loadConfig(env), createLogger('warn'));
  const web = await services.clients.create({ name: 'bench face', redirectUris: ['http://127.0.0.1:9/callback'], firstParty: true });
  await services.accounts.create({ username: 'face', password: PASSWORD });
  await services.close();

  log('server RSS without face models (default flows)');
  const plain = await startServer(env);
  const withoutModels = plain.rss();
  await plain.stop();
  log('server RSS with face models, then after face sign-ins');
  const server = await startServer({ ...env, TESSERA_CONFIG: configFile });
  const modelsLoaded = server.rss();
  const rp = await discoverRp(env.ISSUER, web.client.clientId, { secret: web.secret });
  const signInMs: number[] = [];
  let burstFrames = 0;
  for (let i = 0; i < 4; i++) {
    const browser = new Browser(env.ISSUER);
    const { verifier, page: login } = await authorize(rp, browser, { acr_values: FACE_ACR });
    const page = await browser.submit(login, '/step/password', { username: 'face', password: PASSWORD });
    const frames = bursts.take(challengeOn(page.html)).frames.map((data) => ({ field: 'frame', data }));
    const times = await liveCaptureTimes(frames.length);
    burstFrames = frames.length;
    const t = performance.now();
    const answer = await browser.upload(page, i === 0 ? '/enroll/face' : '/step/face', frames, times, { accept: 'application/json' });
    if (i > 0) signInMs.push(performance.now() - t);
    const outcome = JSON.parse(answer.html) as { ok: boolean; next?: string; message?: string };
    if (!outcome.ok) throw new Error(`face sign-in ${i} refused: ${outcome.message}`);
    await tokensFrom(rp, await browser.request(outcome.next!), verifier);
  }
  const afterSignIns = server.rss();
  await server.stop();
  log('server RSS with the neural model loaded (a password → neural flow)');
  writeFileSync(configFile, JSON.stringify({ flows: { password: [{ step: 'password' }], neural: [{ step: 'password' }, { step: 'neural' }] }, acr: { 'urn:tessera:acr:password': 'password' } }));
  const neural = await startServer({ ...env, TESSERA_CONFIG: configFile });
  const neuralLoaded = neural.rss();
  await neural.stop();
  rmSync(dir, { recursive: true, force: true });
  signInMs.sort((a, b) => a - b);
  return {
    verification: { frame: '250×250 LFW JPEG, decode → detect → landmarks → align → embed + PAD → compare', worker: 'one FaceWorker (as in each server process)', runs: verification },
    pad: { ...pad, note: 'models/face-pad.onnx alone on the aligned chip, one thread (included in verification above)' },
    burstSignIn: { frames: burstFrames, samples: signInMs.length, medianMs: quantile(signInMs, 0.5), note: 'POST of a burst (two movements) through the JSON API: challenge, capture times, analysis, replay check, liveness, match' },
    rssMb: { serverWithoutFaceModels: withoutModels, serverWithFaceModelsLoaded: modelsLoaded, serverAfterFaceSignIns: afterSignIns, serverWithNeuralModelLoaded: neuralLoaded },
  };
}
