// `npm run bench`: starts the built server on PostgreSQL + Redis (cluster workers on every
// core), then measures client-credentials throughput with wrk and full password logins with
// a separate load process; then the neural step (bench/neural-verify.ts), the passkey step (bench/passkey-verify.ts), continuous EEG
// verification (bench/continuous.ts, and through a whole server: bench/continuous-server.ts) and the face step (bench/face.ts). Prints one JSON document.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism, tmpdir } from 'node:os';
import { promisify } from 'node:util';
import argon2 from 'argon2';
import { generateSecret } from 'otplib';
import knexFactory from 'knex';
import { loadConfig } from '../config/load.js';
import { ARGON2_OPTIONS, hashPassword } from '../src/accounts/password-hash.js';
import { createLogger } from '../src/log.js';
import { PROJECT_ROOT } from '../src/paths.js';
import { openServices } from '../src/services.js';
import { TotpCredentials } from '../src/steps/totp/totp-credentials.js';
import { freePort } from '../test/support/server.js';
import { benchFace } from './face.js';
import { processTree, rssMb, sumCpu } from './processes.js';
import { wrkPost } from './wrk.js';

const PG = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WORKERS = Number(process.env.BENCH_WORKERS ?? availableParallelism());
const API = 'https://api.bench.example';
const log = (msg: string) => process.stderr.write(`bench: ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dbName = `tessera_bench_${randomBytes(4).toString('hex')}`;
const admin = knexFactory({ client: 'pg', connection: PG, pool: { min: 0, max: 1 } });
await admin.raw(`create database ${dbName}`);
const dbUrl = new URL(PG);
dbUrl.pathname = `/${dbName}`;
const port = await freePort();
const env: Record<string, string> = {
  PORT: String(port),
  HOST: '127.0.0.1',
  ISSUER: `http://127.0.0.1:${port}`,
  DATABASE_URL: dbUrl.toString(),
  REDIS_URL: REDIS,
  TESSERA_REDIS_PREFIX: `${dbName}:`,
  TESSERA_MASTER_KEY: randomBytes(32).toString('base64'),
  TESSERA_WORKERS: String(WORKERS),
  LOG_LEVEL: 'warn',
  TESSERA_RESOURCE_SERVERS: JSON.stringify([{ indicator: API, scope: 'api:read', signingAlg: 'ES256' }]),
};
const issuer = env.ISSUER!;

// Seed through the same service layer the CLI uses.
const services = await openServices(loadConfig(env), createLogger('warn'));
const machine = await services.clients.create({ name: 'bench machine', grantTypes: ['client_credentials'] });
const web = await services.clients.create({ name: 'bench web', redirectUris: ['http://127.0.0.1:9/callback'], firstParty: true });
const BENCH_PASSWORD = 'bench password 123';
await services.accounts.create({ username: 'bench', password: BENCH_PASSWORD });
// TOTP accounts: a code is good once per 30 s step, so the load cycles through many accounts.
const totp = TotpCredentials.forMasterKey(services.db, services.masterKey.key);
const totpAccounts: { username: string; password: string; totpSecret: string }[] = [];
// One argon2id hash shared by all: seeding 600 accounts should not take a minute.
const sharedHash = await hashPassword(BENCH_PASSWORD);
for (let i = 0; i < 600; i++) {
  const username = `bench-totp-${i}`;
  const account = await services.accounts.create({ username, passwordHash: sharedHash });
  const totpSecret = generateSecret();
  await totp.save(account.id, { secret: totpSecret, algorithm: 'sha1', digits: 6, period: 30 }, 0);
  totpAccounts.push({ username, password: BENCH_PASSWORD, totpSecret });
}
await services.close();
const accountsDir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
const accountsFile = (name: string, list: unknown[]) => {
  const file = join(accountsDir, `${name}.json`);
  writeFileSync(file, JSON.stringify(list));
  return file;
};
const passwordAccounts = accountsFile('password', [{ username: 'bench', password: BENCH_PASSWORD }]);
// Separate TOTP accounts per run: a run must not present codes another run already used this step.
const totpRuns = [accountsFile('totp-1', totpAccounts.slice(0, 200)), accountsFile('totp-4', totpAccounts.slice(200))];

log(`starting server (${WORKERS} workers) on PostgreSQL + Redis`);
// BENCH_SERVER_NODE_ARGS passes flags such as --cpu-prof to the server process for profiling.
const serverArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
const server = spawn(process.execPath, [...serverArgs, 'dist/src/main.js'], { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
for (let i = 0; i < 100; i++) {
  try {
    if ((await fetch(`${issuer}/readyz`)).ok) break;
  } catch {
    // starting
  }
  await sleep(200);
}
await sleep(1000);
const pids = () => processTree(server.pid!);
const rss = () => Object.fromEntries(pids().map((p, i) => [i === 0 ? `primary` : `worker${i}`, rssMb(p)]));
const idleRss = rss();

const ccBody = new URLSearchParams({ grant_type: 'client_credentials', resource: API, scope: 'api:read' }).toString();
const ccHeaders = {
  'Content-Type': 'application/x-www-form-urlencoded',
  Authorization: `Basic ${Buffer.from(`${machine.client.clientId}:${machine.secret}`).toString('base64')}`,
};
// Warm-up (JIT, pools, client cache).
await wrkPost(`${issuer}/token`, ccBody, ccHeaders, 8, 2);

const clientCredentials: Record<string, unknown>[] = [];
let loadedRss: Record<string, number> = {};
for (const connections of [1, 8, 32]) {
  log(`client credentials (ES256 JWT), concurrency ${connections}, ${SECONDS}s`);
  const cpuBefore = sumCpu(pids());
  const t = Date.now();
  const sampler = setTimeout(() => (loadedRss = rss()), (SECONDS * 1000) / 2);
  const result = await wrkPost(`${issuer}/token`, ccBody, ccHeaders, connections, SECONDS);
  clearTimeout(sampler);
  const wall = (Date.now() - t) / 1000;
  const cpuShare = (sumCpu(pids()) - cpuBefore) / wall / availableParallelism();
  clientCredentials.push({ concurrency: connections, ...result, serverCpuShare: Number(cpuShare.toFixed(2)) });
}

// One argon2id verification, the floor under a password login.
const hash = await argon2.hash('bench password 123', ARGON2_OPTIONS);
const verifyTimes: number[] = [];
for (let i = 0; i < 20; i++) {
  const t = process.hrtime.bigint();
  await argon2.verify(hash, 'bench password 123');
  verifyTimes.push(Number(process.hrtime.bigint() - t) / 1e6);
}
verifyTimes.sort((a, b) => a - b);
const argon2Ms = Number(verifyTimes[10]!.toFixed(1));

async function interactive(files: [string, string], label: string) {
  const runs: Record<string, unknown>[] = [];
  for (const [i, concurrency] of [1, 4].entries()) {
    const accountsFile = files[i]!;
    log(`${label} flows, concurrency ${concurrency}, ${SECONDS}s`);
    const cpuBefore = sumCpu(pids());
    const t = Date.now();
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'bench/login-load.ts', issuer, web.client.clientId, web.secret!, accountsFile, String(concurrency), String(SECONDS)],
      { cwd: PROJECT_ROOT },
    );
    const wall = (Date.now() - t) / 1000;
    runs.push({ ...JSON.parse(stdout), serverCpuShare: Number(((sumCpu(pids()) - cpuBefore) / wall / availableParallelism()).toFixed(2)) });
  }
  return runs;
}
const passwordLogin = await interactive([passwordAccounts, passwordAccounts], 'password login');
const passwordTotpLogin = await interactive(totpRuns as [string, string], 'password + TOTP login');

// EEG verification runs in-process through the neural step on the same stores (needs the shared eegmat data).
log('neural verification through the step (eegmat subjects 21–25)');
const neuralVerification = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/neural-verify.ts'], { cwd: PROJECT_ROOT, env: { ...process.env, ...env } }).then(
  ({ stdout }) => JSON.parse(stdout) as Record<string, unknown>,
  (err: Error & { stderr?: string }) => ({ skipped: (err.stderr ?? err.message).trim().split('\n').pop() }),
);

// Passkey sign-ins through the step on the same stores (a software authenticator answers).
log('passkey verification through the step');
const passkeyVerification = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/passkey-verify.ts'], { cwd: PROJECT_ROOT, env: { ...process.env, ...env, LOG_LEVEL: 'silent' } }).then(
  ({ stdout }) => JSON.parse(stdout) as Record<string, unknown>,
  (err: Error & { stderr?: string }) => ({ skipped: (err.stderr ?? err.message).trim().split('\n').pop() }),
);

// Continuous EEG verification: N simulated 1 Hz headsets in one process (needs the shared eegmat data).
log('continuous EEG verification (bench/continuous.ts)');
const continuousVerification = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/continuous.ts'], { cwd: PROJECT_ROOT, maxBuffer: 1 << 20 }).then(
  ({ stdout }) => JSON.parse(stdout) as Record<string, unknown>,
  (err: Error & { stderr?: string }) => ({ skipped: (err.stderr ?? err.message).trim().split('\n').pop() }),
);

// The same through a whole server: real sign-ins, WebSocket streams from a load process (embedded SQLite default).
log('continuous authentication through the server (bench/continuous-server.ts)');
const continuousServer = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/continuous-server.ts'], { cwd: PROJECT_ROOT, maxBuffer: 1 << 20 }).then(
  ({ stdout }) => JSON.parse(stdout) as Record<string, unknown>,
  (err: Error & { stderr?: string }) => ({ skipped: (err.stderr ?? err.message).trim().split('\n').pop() }),
);

server.kill('SIGTERM');
await new Promise((r) => server.once('exit', r));
await admin.raw(`drop database if exists ${dbName} with (force)`);
await admin.destroy();
rmSync(accountsDir, { recursive: true, force: true });
const face = await benchFace(SECONDS);

const out = {
  machine: { cores: availableParallelism(), node: process.version },
  server: { workers: WORKERS, storage: 'PostgreSQL + Redis', accessTokens: 'ES256 JWT (RFC 9068)' },
  clientCredentials,
  passwordLogin: { argon2idVerifyMs: argon2Ms, runs: passwordLogin },
  passwordTotpLogin: { runs: passwordTotpLogin },
  neuralVerification,
  passkeyVerification,
  continuousVerification,
  continuousServer,
  rssMb: { idle: idleRss, underLoad: loadedRss },
  face,
};
process.stdout.write(JSON.stringify(out, null, 2) + '\n');
