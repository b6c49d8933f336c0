// Continuous authentication through the whole server: N monitored sessions (real sign-ins:
// password, then an EEG probe delivered with the capture code), each kept verified by a headset
// streaming 1 s frames over its WebSocket from a separate load process (bench/continuous-load.ts).
// Measured in this process, which is the server: CPU (worker threads included), event-loop lag,
// RSS; the stream's store reads and writes (one each per frame) are part of it. The bar of issue 11:
// 200 streams under 50 % of one core.
// Standalone: `node --import tsx bench/continuous-server.ts` (BENCH_CONTINUOUS_SECONDS,
// BENCH_CONTINUOUS_STREAMS=50,100,200,300; DATABASE_URL and REDIS_URL for PostgreSQL + Redis,
// otherwise the embedded SQLite default).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { loadConfig } from '../config/load.js';
import { NeuralEmbedder } from '../src/biometrics/neural/embedder.js';
import { currentNeuralModel } from '../src/biometrics/neural/model-catalog.js';
import { montages, selectMontage } from '../src/biometrics/neural/montage.js';
import { sliceRecording } from '../src/biometrics/neural/recording.js';
import { exchangeContinuation } from '../src/continuous/device-stream.js';
import { createLogger } from '../src/log.js';
import { PROJECT_ROOT } from '../src/paths.js';
import { NeuralCredentials } from '../src/steps/neural/neural-credentials.js';
import { startTessera } from '../src/tessera.js';
import { cutEdf, eegFile } from '../test/support/eeg.js';
import { freePort } from '../test/support/server.js';
import { loadEdf, sharedEegDir } from '../scripts/neural/dataset.js';
import { LeanBrowser } from './lean-browser.js';

const SECONDS = Number(process.env.BENCH_CONTINUOUS_SECONDS ?? 30);
const LEVELS = (process.env.BENCH_CONTINUOUS_STREAMS ?? '50,100,200,300').split(',').map(Number);
// Warm-up per level: every stream needs a whole window of signal before its first verification.
const WARM_UP_SECONDS = 12;
const SUBJECTS = [21, 22, 23, 24, 25, 10];
const PASSWORD = 'bench password 123';
const log = (msg: string) => process.stderr.write(`continuous server bench: ${msg}\n`);
const round = (x: number, digits = 1) => Number(x.toFixed(digits));
const LAG_RESOLUTION_MS = 10;
const lagMs = (ns: number) => round(Math.max(0, ns / 1e6 - LAG_RESOLUTION_MS));

const dir = mkdtempSync(join(tmpdir(), 'tessera-continuous-bench-'));
const configFile = join(dir, 'tessera.json');
// The sessions must outlive the pauses between levels: a long silence limit, the rest as shipped.
writeFileSync(configFile, JSON.stringify({ flows: { watched: [{ step: 'password' }, { step: 'neural', continuous: { silenceSeconds: 3600 } }] }, defaultFlow: 'watched', acr: {} }));
const port = await freePort();
const config = loadConfig({
  PORT: String(port),
  HOST: '127.0.0.1',
  ISSUER: `http://127.0.0.1:${port}`,
  DATA_DIR: join(dir, 'data'),
  TESSERA_MASTER_KEY: randomBytes(32).toString('base64'),
  TESSERA_CONFIG: configFile,
  LOG_LEVEL: 'warn',
  // Each headset posts from an address of its own (X-Forwarded-For), as devices do: the per-IP capture limits stay as shipped.
  TRUST_PROXY: 'true',
  ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
  ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL, TESSERA_REDIS_PREFIX: `bench-continuous-${process.pid}:` } : {}),
});
const server = await startTessera(config, createLogger('warn'));
const { services } = server;
const issuer = config.issuer;
const web = await services.clients.create({ name: 'bench web', redirectUris: ['http://127.0.0.1:9/callback'], firstParty: true });

// Templates of each subject's first resting minute; the sign-in probe is the next 10 s.
const model = currentNeuralModel('clinical19');
const embedder = await NeuralEmbedder.load(model.file);
const vectors = new Map<number, Float32Array>();
for (const s of SUBJECTS) {
  const rest = selectMontage(await loadEdf(`${sharedEegDir()}/Subject${s}_1.edf`), montages.clinical19);
  vectors.set(s, (await embedder.enroll([sliceRecording(rest, 0, 60)])).vector);
}
const credentials = NeuralCredentials.forMasterKey(services.db, services.masterKey.key, services.log);
const probes = new Map(SUBJECTS.map((s) => [s, cutEdf(eegFile(s, 1), 60, 10)]));

/** One account's real sign-in with the probe from its "headset": the continuation the headset keeps. */
async function signIn(i: number): Promise<{ continuation: string; subject: number }> {
  const subject = SUBJECTS[i % SUBJECTS.length]!;
  const username = `watched${i}`;
  const account = await services.accounts.create({ username, password: PASSWORD });
  await credentials.enroll(account.id, { vector: vectors.get(subject)!, model, windows: 11 }, []);
  const browser = new LeanBrowser(issuer);
  const authorize = new URL('/auth', issuer);
  authorize.search = new URLSearchParams({ client_id: web.client.clientId, response_type: 'code', scope: 'openid', redirect_uri: 'http://127.0.0.1:9/callback', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', state: 's' }).toString();
  const login = await browser.go(authorize.href);
  const page = await browser.submit(login, '/step/password', { username, password: PASSWORD });
  const code = /<code id="capture-code"[^>]*>([^<]+)</.exec(page.html)?.[1];
  if (!code) throw new Error(`no capture code for ${username} (${page.status})`);
  const device = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const sent = await fetch(`${issuer}/capture/${code}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'x-forwarded-for': device }, body: probes.get(subject)! });
  const { continuation } = (await sent.json()) as { continuation?: string };
  const done = await browser.submit(page, '/step/neural', {});
  if (!continuation || !done.leftTo) throw new Error(`sign-in of ${username} did not complete (${done.status})`);
  return { continuation, subject };
}

const most = Math.max(...LEVELS);
log(`${most} sign-ins`);
const sessions: { continuation: string; subject: number }[] = [];
for (let i = 0; i < most; i += 4) sessions.push(...(await Promise.all(Array.from({ length: Math.min(4, most - i) }, (_, k) => signIn(i + k)))));

async function level(n: number) {
  // A stream token opens one stream: new ones for this level.
  const targets = await Promise.all(sessions.slice(0, n).map(async (s) => ({ ...(await exchangeContinuation(issuer, s.continuation, 30_000)), subject: s.subject })));
  const file = join(dir, `streams-${n}.json`);
  writeFileSync(file, JSON.stringify(targets));
  const baseline = process.memoryUsage().rss;
  const load = promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/continuous-load.ts', file, String(WARM_UP_SECONDS + SECONDS + 1)], { cwd: PROJECT_ROOT });
  await sleep(WARM_UP_SECONDS * 1000);
  const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  lag.enable();
  const cpu = process.cpuUsage();
  const started = performance.now();
  await sleep(SECONDS * 1000);
  const used = process.cpuUsage(cpu);
  const wall = (performance.now() - started) / 1000;
  lag.disable();
  const rss = process.memoryUsage().rss;
  const generator = JSON.parse((await load).stdout) as Record<string, unknown>;
  // The streams have closed: let the server settle before the next level.
  await sleep(2000);
  return {
    streams: n,
    serverCpuPercentOfOneCore: round(((used.user + used.system) / 1e6 / wall) * 100),
    eventLoopLagMs: { p50: lagMs(lag.percentile(50)), p99: lagMs(lag.percentile(99)), max: lagMs(lag.max) },
    serverRssMb: round(rss / 2 ** 20),
    rssPerStreamMb: round((rss - baseline) / 2 ** 20 / n, 2),
    generator,
  };
}

const levels = [];
for (const n of LEVELS) {
  log(`${n} streams at 1 Hz`);
  levels.push(await level(n));
}
await server.stop();
process.stdout.write(
  `${JSON.stringify({ store: config.storage, loadAverage: loadavg().map((l) => round(l, 2)), seconds: SECONDS, policy: 'shipped defaults, silenceSeconds 3600', levels })}\n`,
);
