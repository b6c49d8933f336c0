/**
 * npm run eval:neural-replay [-- --data <dir>] [--threshold <signal correlation>]
 *
 * The signal replay defence (src/steps/neural/replay.ts) on every SubjectNN_1/_2 pair of a folder.
 * Per person the memory holds what the step would remember: the enrollment recording (first
 * minute of the resting run) and five accepted 10 s probes (resting run at 70, 100, 130 s; task
 * run at 0, 30 s), filled up to 100 probes with 10 s windows of other people (the most the step
 * keeps). Attacks are made from the person's own remembered recordings by every transform of
 * replay-attacks.ts and must be refused; fresh recordings are the person's other 10 s windows (resting run 60–70,
 * 80–100, 110–130, 140–170 s; task run 10–30, 40–60 s), which share no sample with the memory and
 * must pass, against the person's own memory and against the full one, where the cost per probe is
 * also measured. One JSON line on stdout, progress on stderr.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { montageByName, selectMontage } from '../../src/biometrics/neural/montage.js';
import type { Recording } from '../../src/biometrics/neural/recording.js';
import { SealedBox } from '../../src/security/sealed-box.js';
import { DEFAULT_REPLAY_SIMILARITY, findReplay } from '../../src/steps/neural/replay.js';
import type { Submission } from '../../src/steps/neural/replay-memory.js';
import { packFingerprint, signalFingerprint, unpackFingerprint } from '../../src/steps/neural/signal-fingerprint.js';
import { listSubjects, loadEdf, sharedEegDir } from './dataset.js';
import { percentile } from './protocol.js';
import { addNoise, cut, durationOf, highpass, permuteChannels, resampleTo, rotate, scale, splice } from './replay-attacks.js';
import { seededRandom } from '../seeded-random.js';

const { values: args } = parseArgs({ options: { data: { type: 'string' }, threshold: { type: 'string' } } });
const THRESHOLD = args.threshold === undefined ? DEFAULT_REPLAY_SIMILARITY : Number(args.threshold);
const ATTACKS_PER_TRANSFORM = 6;
const random = seededRandom(20261204);
const between = (lo: number, hi: number) => lo + random() * (hi - lo);
const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;

interface Remembered {
  run: 'rest' | 'task';
  start: number;
  seconds: number;
}
const MEMORY: Remembered[] = [
  { run: 'rest', start: 0, seconds: 60 },
  { run: 'rest', start: 70, seconds: 10 },
  { run: 'rest', start: 100, seconds: 10 },
  { run: 'rest', start: 130, seconds: 10 },
  { run: 'task', start: 0, seconds: 10 },
  { run: 'task', start: 30, seconds: 10 },
];
const FRESH: [Remembered['run'], number][] = [
  ...[60, 80, 90, 110, 120, 140, 150, 160].map((t) => ['rest', t] as [Remembered['run'], number]),
  ...[10, 20, 40, 50].map((t) => ['task', t] as [Remembered['run'], number]),
];

/** A 10 s window from remembered recording `m`, starting anywhere in it (between samples too). */
const windowOf = (runs: Record<Remembered['run'], Recording>, m: Remembered, seconds = 10) => cut(runs[m.run], m.start + between(0, m.seconds - seconds) + random() / 500, seconds);

/** Each transform: an attack made from the person's remembered recordings. */
const transforms: Record<string, (runs: Record<Remembered['run'], Recording>) => Recording> = {
  // Anywhere inside the enrollment minute, at a random sub-sample offset.
  shift_within_enrollment: (runs) => windowOf(runs, MEMORY[0]!),
  // An accepted probe's run cut 0.1–5 s earlier or later: 5–9.9 s of it are the probe.
  shift_partial_probe: (runs) => {
    const m = pick(MEMORY.slice(1));
    const by = between(0.1, 5) + random() / 500;
    const start = m.start - by >= 0 && random() < 0.5 ? m.start - by : m.start + by;
    return cut(runs[m.run], start, 10);
  },
  shift_circular_probe: (runs) => {
    const m = pick(MEMORY.slice(1));
    return rotate(cut(runs[m.run], m.start, 10), between(0.2, 9.8));
  },
  scale_half: (runs) => scale(windowOf(runs, pick(MEMORY)), 0.5),
  scale_double: (runs) => scale(windowOf(runs, pick(MEMORY)), 2),
  noise_20db: (runs) => addNoise(windowOf(runs, pick(MEMORY)), 20, random),
  channel_permutation: (runs) => permuteChannels(windowOf(runs, pick(MEMORY)), random),
  resample_128: (runs) => resampleTo(windowOf(runs, pick(MEMORY)), 128),
  resample_250: (runs) => resampleTo(windowOf(runs, pick(MEMORY)), 250),
  resample_256: (runs) => resampleTo(windowOf(runs, pick(MEMORY)), 256),
  resample_1000: (runs) => resampleTo(windowOf(runs, pick(MEMORY)), 1000),
  // Two parts of two different remembered recordings, split anywhere between 3 and 7 s.
  splice_two_recordings: (runs) => {
    const first = Math.floor(random() * MEMORY.length);
    const second = (first + 1 + Math.floor(random() * (MEMORY.length - 1))) % MEMORY.length;
    const split = between(3, 7);
    return splice(windowOf(runs, MEMORY[first]!, split), windowOf(runs, MEMORY[second]!, 10 - split));
  },
  // The fingerprint's low band filtered away; the model's features (3–35 Hz) mostly stay.
  highpass_8hz: (runs) => highpass(windowOf(runs, pick(MEMORY)), 8),
  combined: (runs) => resampleTo(permuteChannels(addNoise(scale(windowOf(runs, pick(MEMORY)), pick([0.5, 2])), 20, random), random), pick([250, 256, 1000])),
  combined_splice: (runs) => {
    const split = between(3, 7);
    const a = windowOf(runs, pick(MEMORY), split);
    const b = windowOf(runs, pick(MEMORY), 10 - split);
    return resampleTo(addNoise(scale(permuteChannels(splice(a, b), random), 2), 20, random), 256);
  },
};

const stats = (xs: readonly number[]) => ({ min: round(Math.min(...xs)), p50: round(percentile(xs, 50)), max: round(Math.max(...xs)) });
const round = (x: number) => Math.round(x * 10000) / 10000;
const probe = (r: Recording): Submission => ({ kind: 'probe', digest: '00', fingerprint: signalFingerprint(r) });

async function main(): Promise<void> {
  const dir = args.data ?? sharedEegDir();
  const subjects = await listSubjects(dir);
  if (subjects.length < 2) throw new Error(`${dir} holds ${subjects.length} SubjectNN_1/_2 pairs; at least 2 are needed`);
  const montage = montageByName('clinical19');
  const people = [];
  for (const s of subjects) people.push({ id: s.id, runs: { rest: selectMontage(await loadEdf(s.rest), montage), task: selectMontage(await loadEdf(s.task), montage) } });

  // Other people's 10 s windows fill a full memory of 100 probes.
  const strangers = people.map((p) => [0, 10, 20, 30, 40, 50].map((t) => probe(cut(p.runs.task, t, 10))));
  const attacks: Record<string, { scores: number[]; rejected: number; matches: Record<string, number> }> = {};
  const fresh: number[] = [];
  const freshFull: number[] = [];
  const falseRejections: string[] = [];
  const latency: number[] = [];
  const cpu: number[] = [];
  const box = new SealedBox(randomBytes(32), 'neural-fingerprint');
  let bytes = { probe10s: 0, enrollment60s: 0, sealedProbe10s: 0 };

  for (const [index, person] of people.entries()) {
    const memory: Submission[] = MEMORY.map((m) => ({ kind: m.seconds > 10 ? 'enrollment' : 'probe', digest: '00', fingerprint: signalFingerprint(cut(person.runs[m.run], m.start, m.seconds)) }));
    const others = strangers.filter((_, i) => i !== index).flat();
    const full = [...memory, ...others.slice(0, 100 - (memory.length - 1))];
    // The full memory as the step holds it: sealed at rest, opened for every verification.
    const sealed = full.map((s) => box.seal(packFingerprint(s.fingerprint!), person.id));
    bytes = { probe10s: packFingerprint(memory[1]!.fingerprint!).length, enrollment60s: packFingerprint(memory[0]!.fingerprint!).length, sealedProbe10s: sealed[1]!.length };

    for (const [name, make] of Object.entries(transforms)) {
      const result = (attacks[name] ??= { scores: [], rejected: 0, matches: {} });
      for (let i = 0; i < ATTACKS_PER_TRANSFORM; i++) {
        const verdict = findReplay('ff', signalFingerprint(make(person.runs)), full, THRESHOLD);
        result.scores.push(verdict.similarity);
        if (verdict.replay) {
          result.rejected++;
          result.matches[verdict.match] = (result.matches[verdict.match] ?? 0) + 1;
        }
      }
    }
    for (const [run, start] of FRESH) {
      const window = cut(person.runs[run], start, 10);
      const own = findReplay('ff', signalFingerprint(window), memory, THRESHOLD);
      fresh.push(own.similarity);
      if (own.replay) falseRejections.push(`${person.id} ${run} ${start}s (own memory, ${round(own.similarity)})`);
      const started = performance.now();
      const cpuStarted = process.cpuUsage();
      const opened = sealed.map((s, i) => ({ kind: full[i]!.kind, digest: '00', fingerprint: unpackFingerprint(box.open(s, person.id)) }));
      const verdict = findReplay('ff', signalFingerprint(window), opened, THRESHOLD);
      latency.push(performance.now() - started);
      const used = process.cpuUsage(cpuStarted);
      cpu.push((used.user + used.system) / 1000);
      freshFull.push(verdict.similarity);
      if (verdict.replay) falseRejections.push(`${person.id} ${run} ${start}s (full memory, ${round(verdict.similarity)})`);
    }
    process.stderr.write(`${person.id}: ${durationOf(person.runs.rest).toFixed(0)} s rest, ${durationOf(person.runs.task).toFixed(0)} s task\n`);
  }

  const attackMin = Math.min(...Object.values(attacks).flatMap((a) => a.scores));
  const freshMax = Math.max(...fresh, ...freshFull);
  process.stdout.write(
    `${JSON.stringify({
      data: dir,
      subjects: people.length,
      threshold: THRESHOLD,
      rejection: Object.fromEntries(
        Object.entries(attacks).map(([name, a]) => [name, { attempts: a.scores.length, rejected: a.rejected, rate: round(a.rejected / a.scores.length), matches: a.matches, score: stats(a.scores) }]),
      ),
      fresh: {
        ownMemory: { count: fresh.length, falseRejections: fresh.filter((s) => s >= THRESHOLD).length, score: stats(fresh) },
        fullMemory: { count: freshFull.length, falseRejections: freshFull.filter((s) => s >= THRESHOLD).length, score: stats(freshFull) },
        refused: falseRejections,
      },
      margin: { lowestAttackScore: round(attackMin), highestFreshScore: round(freshMax), gap: round(attackMin - freshMax), belowThreshold: round(THRESHOLD - freshMax), aboveThreshold: round(attackMin - THRESHOLD) },
      // Opening 101 sealed fingerprints, fingerprinting the 10 s probe and matching it.
      latencyMs: { memory: '100 probes of 10 s + a 60 s enrollment', p50: round(percentile(latency, 50)), p95: round(percentile(latency, 95)), max: round(Math.max(...latency)) },
      // The process's CPU time over the same span: on a shared machine the wall time also counts waiting for a core.
      cpuMs: { p50: round(percentile(cpu, 50)), p95: round(percentile(cpu, 95)), max: round(Math.max(...cpu)) },
      storedBytes: bytes,
      machine: { cpus: os.cpus().length, loadAverage1m: Number(os.loadavg()[0]?.toFixed(2)) },
    })}\n`,
  );
}

await main();
