// Neural-signal verification through the step itself (decode → quality → features → ONNX →
// replay check → score → remember → audit) on the configured database, with eegmat subjects
// 21–25 (held out from the v1 models, training people of v2, which new enrolments use): latency p50/p95 of genuine verifications, their decisions, impostor
// decisions (each person's task-run probes against the others), and the replay defence on exact
// copies, noisy copies and 1 s shifts of the accepted probes; then how much a 9-minute
// enrollment recording delays the event loop (what every other request on the process waits).
// Standalone: `node --import tsx bench/neural-verify.ts` (uses the environment's DATABASE_URL etc.).
import { loadavg } from 'node:os';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../src/log.js';
import { CredentialThrottle } from '../src/security/credential-throttle.js';
import { openServices } from '../src/services.js';
import { NeuralStep } from '../src/steps/neural/neural-step.js';
import type { Account } from '../src/accounts/accounts.js';
import { durationSeconds } from '../src/biometrics/neural/recording.js';
import type { Attempt, StepOutcome } from '../src/steps/step.js';
import { cutEdf, eegFile, repeatEdf } from '../test/support/eeg.js';

const SUBJECTS = [21, 22, 23, 24, 25];
const config = loadConfig();
const services = await openServices(config, createLogger('warn'));
// Generous limits: the bench makes many deliberate failures (replays) per account.
const throttle = new CredentialThrottle(services.rateCounter, { maxFailuresPerAccount: 10_000, maxFailuresPerIp: 10_000, windowSeconds: 60, lockoutSeconds: 1 });
const step = NeuralStep.forConfig(services.db, services.masterKey.key, throttle, services.audit, config, services.log);
await step.warm();
const attempt: Attempt = { ip: '192.0.2.1' };
const upload = (data: Uint8Array) => ({ field: 'recording', contentType: 'application/octet-stream', data: Buffer.from(data) });
const reason = (o: StepOutcome) => (o.ok ? 'accepted' : o.status === 401 && /used before/.test(o.message) ? 'replay' : o.status === 401 ? 'no_match' : `error_${o.status}`);

const latencies: number[] = [];
const decisions: Record<string, number> = {};
const impostors: Record<string, number> = {};
const replays: Record<string, Record<string, number>> = { exact: {}, noise: {}, shift1s: {} };
const accounts = new Map<number, Account>();
for (const subject of SUBJECTS) {
  const account = await services.accounts.create({ username: `neural-bench-${subject}-${Date.now()}` });
  const enrolled = await step.saveEnrollment(account, [upload(cutEdf(eegFile(subject, 1), 0, 60))], attempt);
  if (!enrolled.ok) throw new Error(`enrollment of Subject${subject} failed: ${enrolled.message}`);
  accounts.set(subject, account);
}
for (const subject of SUBJECTS) {
  const rest = eegFile(subject, 1);
  const task = eegFile(subject, 2);
  const account = accounts.get(subject)!;
  for (const other of SUBJECTS.filter((s) => s !== subject)) {
    for (const t of [5, 25, 45]) {
      const r = reason(await step.verify({ fields: {}, files: [upload(cutEdf(eegFile(other, 2), t, 10))] }, { interactionId: 'bench', account }, attempt));
      impostors[r] = (impostors[r] ?? 0) + 1;
    }
  }
  // Probes never overlap the enrollment minute: task run 0–60 s, resting run from 70 s.
  const probes = [...[0, 10, 20, 30, 40, 50].map((t) => cutEdf(task, t, 10)), ...[70, 80, 90, 100, 110, 120, 130, 140, 150, 160].map((t) => cutEdf(rest, t, 10))];
  const accepted: Uint8Array[] = [];
  for (const probe of probes) {
    const t = process.hrtime.bigint();
    const outcome = await step.verify({ fields: {}, files: [upload(probe)] }, { interactionId: 'bench', account }, attempt);
    latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
    decisions[reason(outcome)] = (decisions[reason(outcome)] ?? 0) + 1;
    if (outcome.ok) accepted.push(probe);
  }
  process.stderr.write(`neural bench: Subject${subject} ${accepted.length}/${probes.length} accepted\n`);
  for (const [i, probe] of accepted.entries()) {
    const variants: [string, Uint8Array][] = [
      ['exact', probe],
      ['noise', cutEdf(probe, 0, 10, { noise: 800, seed: i + 1 })],
    ];
    for (const [kind, data] of variants) {
      const r = reason(await step.verify({ fields: {}, files: [upload(data)] }, { interactionId: 'bench', account }, attempt));
      replays[kind]![r] = (replays[kind]![r] ?? 0) + 1;
    }
  }
  // A 10 s window starting 1 s into each accepted resting probe (it overlaps that probe by 9 s).
  for (const t of [70, 80, 90, 100, 110, 120, 130, 140, 150, 160]) {
    const r = reason(await step.verify({ fields: {}, files: [upload(cutEdf(rest, t + 1, 10))] }, { interactionId: 'bench', account }, attempt));
    replays.shift1s![r] = (replays.shift1s![r] ?? 0) + 1;
  }
}

// The longest recording an upload may carry is 10 minutes: Subject21's resting run three times.
const long = repeatEdf(eegFile(21, 1), 3);
const enrollee = await services.accounts.create({ username: `neural-bench-long-${Date.now()}` });
// A timer due every 5 ms stands for the other requests: how late it fires is how long they wait.
const lateness: number[] = [];
let due = performance.now() + 5;
const ticker = setInterval(() => {
  const now = performance.now();
  lateness.push(Math.max(0, now - due));
  due = now + 5;
}, 5);
await new Promise((r) => setTimeout(r, 50));
const enrollStarted = performance.now();
const longEnrollment = await step.saveEnrollment(enrollee, [upload(long)], attempt);
const enrollMs = performance.now() - enrollStarted;
await new Promise((r) => setTimeout(r, 20));
clearInterval(ticker);
lateness.sort((a, b) => a - b);
if (!longEnrollment.ok) throw new Error(`long enrollment failed: ${longEnrollment.message}`);
await services.accounts.delete(enrollee.id);
for (const account of accounts.values()) await services.accounts.delete(account.id);
await step.close();
await services.close();

latencies.sort((a, b) => a - b);
const ms = (x: number) => Number(x.toFixed(1));
const q = (p: number) => Number(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(1));
process.stdout.write(
  JSON.stringify({
    model: step.currentModel.id,
    storage: config.storage,
    // The machine's 1-minute load average at the end: latency on a shared machine depends on it.
    loadAverage: Number(loadavg()[0]!.toFixed(2)),
    probes: latencies.length,
    verifyMs: { p50: q(0.5), p95: q(0.95), max: Number(latencies.at(-1)!.toFixed(1)) },
    genuineDecisions: decisions,
    impostorDecisions: impostors,
    replayAttempts: replays,
    longEnrollment: {
      recordingSeconds: Math.round(durationSeconds(step.decode(Buffer.from(long)).recording)),
      enrollMs: Math.round(enrollMs),
      timerLatenessMs: { p50: ms(lateness[Math.floor(lateness.length / 2)]!), max: ms(lateness.at(-1)!) },
    },
  }) + '\n',
);
