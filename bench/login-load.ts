// Load generator for full interactive sign-ins, run in its own process by bench/run.ts:
// authorize → password form → (TOTP form) → code → token, each flow in a fresh browser.
// Arguments: issuer clientId clientSecret accountsFile concurrency seconds. The accounts file
// is JSON [{ username, password, totpSecret? }]; with a TOTP secret the flow asks acr mfa.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { generate } from 'otplib';
import { LeanBrowser, postForm } from './lean-browser.js';

interface BenchAccount {
  username: string;
  password: string;
  totpSecret?: string;
}

const [issuer, clientId, secret, accountsFile, concurrencyArg, secondsArg] = process.argv.slice(2);
const accounts = JSON.parse(readFileSync(accountsFile!, 'utf8')) as BenchAccount[];
const concurrency = Number(concurrencyArg);
const deadline = Date.now() + Number(secondsArg) * 1000;
const redirectUri = 'http://127.0.0.1:9/callback';
const basic = `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`;

// A TOTP code is good once per time step, so an account is not reused within one.
const lastStep = new Map<string, number>();
let cursor = 0;
function nextAccount(): BenchAccount | undefined {
  const step = Math.floor(Date.now() / 30_000);
  for (let tries = 0; tries < accounts.length; tries++) {
    const account = accounts[cursor++ % accounts.length]!;
    if (!account.totpSecret || lastStep.get(account.username) !== step) {
      lastStep.set(account.username, step);
      return account;
    }
  }
  return undefined;
}
let exhausted = false;

async function flow(account: BenchAccount): Promise<void> {
  const browser = new LeanBrowser(issuer!);
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const auth = new URL(`${issuer}/auth`);
  auth.search = new URLSearchParams({
    client_id: clientId!,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: redirectUri,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'x',
    ...(account.totpSecret ? { acr_values: 'urn:tessera:acr:mfa' } : {}),
  }).toString();
  const login = await browser.go(auth.href);
  let back = await browser.submit(login, '/step/password', { username: account.username, password: account.password });
  if (account.totpSecret) back = await browser.submit(back, '/step/totp', { code: await generate({ secret: account.totpSecret }) });
  const code = back.leftTo?.searchParams.get('code');
  if (!code) throw new Error(`no code (status ${back.status})`);
  const res = await postForm(`${issuer}/token`, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier }, basic);
  if (res.status !== 200) throw new Error(`token status ${res.status}`);
}

const durations: number[] = [];
let failures = 0;
const started = Date.now();
const cpuAtStart = process.cpuUsage();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (Date.now() < deadline) {
      const account = nextAccount();
      if (!account) {
        exhausted = true;
        break;
      }
      const t = process.hrtime.bigint();
      try {
        await flow(account);
        durations.push(Number(process.hrtime.bigint() - t) / 1e6);
      } catch (err) {
        failures++;
        if (failures < 3) console.error(String(err));
      }
    }
  }),
);
const elapsed = (Date.now() - started) / 1000;
durations.sort((a, b) => a - b);
const pct = (p: number) => Number((durations[Math.min(durations.length - 1, Math.floor(p * durations.length))] ?? NaN).toFixed(1));
if (exhausted) console.error('stopped early: every account signed in during this time step; give the run more accounts');
// The generator's own CPU per flow: at concurrency 1 it adds to the measured latency.
const cpu = process.cpuUsage(cpuAtStart);
const clientCpuMsPerFlow = Number(((cpu.user + cpu.system) / 1000 / Math.max(durations.length, 1)).toFixed(1));
process.stdout.write(JSON.stringify({ concurrency, flows: durations.length, failures, flowsPerSec: Number((durations.length / elapsed).toFixed(1)), p50ms: pct(0.5), p99ms: pct(0.99), clientCpuMsPerFlow }));
