// Passkey verification through the step itself (prompt with a fresh challenge → read the response
// → credential lookup → challenge redeemed once → ES256 signature → counter claimed → audit), on
// the configured stores, answered by the software authenticator of the tests: latency p50/p95 of
// a usernameless sign-in, and of the page's options alone. Prints one JSON document.
// Standalone: `node --import tsx bench/passkey-verify.ts` (uses the environment's DATABASE_URL etc.).
import { loadavg } from 'node:os';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../src/log.js';
import { openServices } from '../src/services.js';
import { createPasskeyStep } from '../src/steps/passkey/index.js';
import { SoftwareAuthenticator } from '../test/support/software-authenticator.js';

const RUNS = Number(process.env.BENCH_PASSKEY_RUNS ?? 300);
const config = loadConfig();
const services = await openServices(config, createLogger('warn'));
const step = createPasskeyStep(services);
const origin = new URL(config.issuer).origin;
const at = { ip: '192.0.2.7' };
const challengeOf = async (options: Record<string, unknown>) => (JSON.parse(String(options.options)) as { challenge: string }).challenge;

const account = await services.accounts.create({ username: `passkey-bench-${Date.now()}` });
const authenticator = new SoftwareAuthenticator();
const setup = { account, pending: '', contextId: 'bench-setup' };
const registered = await step.enrollment.confirm({ fields: { name: 'bench', response: authenticator.register(await challengeOf(await step.enrollment.prompt(setup)), origin) }, files: [] }, setup, at);
if (!registered.ok) throw new Error(`registration failed: ${registered.message}`);

const prompts: number[] = [];
const signIns: number[] = [];
const ms = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e6;
for (let i = 0; i < RUNS; i++) {
  const state = { interactionId: `bench-${i}` };
  const start = process.hrtime.bigint();
  const challenge = await challengeOf(await step.prompt(state));
  prompts.push(ms(start));
  authenticator.counter++;
  const response = authenticator.assert(challenge, origin, { userHandle: account.id });
  const verifyStart = process.hrtime.bigint();
  const outcome = await step.verify({ fields: { response }, files: [] }, state, at);
  signIns.push(ms(verifyStart));
  if (!outcome.ok) throw new Error(`sign-in ${i} refused: ${outcome.message}`);
}
const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.floor(q * (values.length - 1))]!;
const summary = (values: number[]) => ({ p50: +quantile(values, 0.5).toFixed(2), p95: +quantile(values, 0.95).toFixed(2) });
await services.close();
process.stdout.write(
  JSON.stringify({ storage: config.storage, runs: RUNS, promptMs: summary(prompts), verifyMs: summary(signIns), load: loadavg().map((l) => +l.toFixed(2)) }, null, 2) + '\n',
);
