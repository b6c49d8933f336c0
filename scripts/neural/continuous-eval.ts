/**
 * `npm run eval:continuous [-- --data DIR] [--folds 5] [--seed 1] [--windows 10,8,6] [--hops 1,2]`: continuous
 * verification on the eegmat people, out of fold, through the real ContinuousVerifier. One JSON line
 * on stdout, progress on stderr.
 *
 * neural-clinical19-v2 was trained on all 26 people, so each fold is embedded by a projection fitted
 * with v2's settings on the other folds (scripts/fusion/eeg-out-of-fold.ts), exported to a
 * temporary ONNX file and run by a ContinuousModel worker like the shipped one. Per person: template
 * from the first resting minute; sign-in probe resting 60–70 s, or the first clean 10 s after it
 * (its LLR starts the confidence); the
 * stream is the rest of their data in 1 s frames: rest from 70 s, then the task run, then both again
 * (about 3 minutes of data twice, to cover 5 minutes). Impostor: for every ordered pair A → B in a
 * fold, A's stream for 60 s, then B's stream (from B's 70 s of rest) for up to 60 s, against A's template.
 *
 * The policy is chosen without looking at the fold it is reported on: for each fold, the grid's
 * policies are replayed (the real RunningConfidence over the windows' recorded LLRs) on the other
 * folds, the rule below picks one, and the fold's figures are those of the pick (`nested`). The
 * default is the rule applied to all folds; its figures (`chosen`) are then streamed again through
 * the verifier with that policy, ends and all, and are not held out.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { calibrationBeside, scoreLlr, type Calibration } from '../../src/biometrics/fusion/index.js';
import { NeuralEmbedder, score } from '../../src/biometrics/neural/embedder.js';
import { NeuralInputError } from '../../src/biometrics/neural/errors.js';
import { currentNeuralModel } from '../../src/biometrics/neural/model-catalog.js';
import { montageByName, selectMontage } from '../../src/biometrics/neural/montage.js';
import { durationSeconds, sliceRecording, type Recording } from '../../src/biometrics/neural/recording.js';
import { DEFAULT_CONTINUOUS_POLICY, type ContinuousPolicy } from '../../src/continuous/continuous-policy.js';
import { ContinuousVerifier, type WindowVerdict } from '../../src/continuous/continuous-verifier.js';
import { RunningConfidence } from '../../src/continuous/running-confidence.js';
import { encodeFrame, isRefusal } from '../../src/continuous/stream-protocol.js';
import { ContinuousModel } from '../../src/continuous/window-model.js';
import { positiveInt } from '../cli-args.js';
import { outOfFoldProjections } from '../fusion/eeg-out-of-fold.js';
import { listSubjects, loadEdf, sharedEegDir } from './dataset.js';
import { projectionModel } from './onnx-export.js';
import { percentile } from './protocol.js';

const { values: args } = parseArgs({
  options: { data: { type: 'string' }, folds: { type: 'string', default: '5' }, seed: { type: 'string', default: '1' }, windows: { type: 'string', default: '10,8,6' }, hops: { type: 'string', default: '1,2' } },
});
const progress = (line: string): void => void process.stderr.write(`${line}\n`);
const round = (x: number, digits = 2): number => Number(x.toFixed(digits));

const SWITCH_SECONDS = 60;
/** How long B streams after the switch; a session still open then counts as never ended. */
const IMPOSTOR_SECONDS = 60;
const TARGET_SECONDS = 10;
const EEG_MODEL = currentNeuralModel('clinical19');
const EEG_MODEL_NAME = basename(EEG_MODEL.file, '.onnx');

/** The grid replayed per window length; ties go to the earlier entry (longer half-life, larger K, lower floor: the more conservative). */
const HALF_LIVES = [8, 4, 2, 1];
const KS = [5, 3, 2, 1];
const FLOORS = [-6, -4, -2, 0, 2, 4];

/** Records every window: nothing ends a session. */
const recordAll = (windowSeconds: number): ContinuousPolicy => ({ ...DEFAULT_CONTINUOUS_POLICY, windowSeconds, hopSeconds: 1, floor: -1e9, windowsBelowFloor: 1000, rejectedWindowsTolerated: 100_000 });

interface Person {
  id: string;
  rest: Recording;
  task: Recording;
}

/** A stream's source: seconds [from, to) of a recording. */
type Span = readonly [Recording, number, number];

function* frames(spans: readonly Span[]): Generator<Float32Array[]> {
  for (const [recording, from, to] of spans) {
    const rate = recording.sampleRate;
    for (let s = from; s < to; s++) yield recording.channels.map((c) => c.samples.subarray(s * rate, (s + 1) * rate));
  }
}

/** Rest from 70 s, then the task run, twice: a little under 6 minutes. */
function genuineSpans(p: Person): Span[] {
  const once: Span[] = [
    [p.rest, 70, Math.floor(durationSeconds(p.rest))],
    [p.task, 0, Math.floor(durationSeconds(p.task))],
  ];
  return [...once, ...once];
}

/** The first `seconds` of a list of spans. */
function firstSeconds(spans: readonly Span[], seconds: number): Span[] {
  const out: Span[] = [];
  let left = seconds;
  for (const [r, from, to] of spans) {
    if (left <= 0) break;
    const n = Math.min(to - from, left);
    out.push([r, from, from + n]);
    left -= n;
  }
  return out;
}

/** The sign-in probe: rest 60–70 s, or the first clean 10 s after it (a few people blink there). */
async function signInProbe(embedder: NeuralEmbedder, rest: Recording): Promise<Float32Array> {
  for (let start = 60; start + 10 <= durationSeconds(rest); start++) {
    try {
      return (await embedder.embed(sliceRecording(rest, start, 10))).vector;
    } catch (err) {
      if (!(err instanceof NeuralInputError)) throw err;
    }
  }
  throw new Error('no clean 10 s of rest after the enrolment minute');
}

interface Session {
  template: Float32Array;
  signInLlr: number;
}

/**
 * Streams `spans` in 1 s frames through ContinuousVerifier sessions under `policy`; when one ends, a
 * new session (a new sign-in, same starting LLR) takes the following frames. The verdicts and ends.
 */
async function stream(model: ContinuousModel, calibration: Calibration, policy: ContinuousPolicy, session: Session, spans: readonly Span[]): Promise<{ verdicts: WindowVerdict[]; ends: number[]; seconds: number }> {
  const hello = JSON.stringify({ type: 'hello', sampleRate: spans[0]![0].sampleRate, channels: spans[0]![0].channels.map((c) => c.label) });
  const open = async () => {
    const v = await ContinuousVerifier.open({ hello, model, match: (e) => score(session.template, e), calibration, policy, initialLlr: session.signInLlr });
    if (isRefusal(v)) throw new Error(`hello refused: ${v.reason}`);
    return v;
  };
  let verifier = await open();
  let offset = 0;
  let sequence = 0;
  let seconds = 0;
  const verdicts: WindowVerdict[] = [];
  const ends: number[] = [];
  for (const frame of frames(spans)) {
    const result = await verifier.push(encodeFrame(sequence++, frame));
    seconds++;
    if (isRefusal(result)) throw new Error(`frame refused: ${result.reason}`);
    verdicts.push(...result.verdicts.map((v) => ({ ...v, endSeconds: v.endSeconds + offset })));
    if (result.end) {
      ends.push(seconds);
      await verifier.close();
      verifier = await open();
      offset = seconds;
      sequence = 0;
    }
  }
  await verifier.close();
  return { verdicts, ends, seconds };
}

/** One recorded stream: its windows' LLRs (undefined for an artefact window). */
interface Trace {
  fold: number;
  windowSeconds: number;
  signInLlr: number;
  windows: { end: number; llr: number | undefined }[];
  /** Impostor streams: when B took over. */
  switchAt?: number;
}

/** The ends a policy gives a recorded stream (a new session after each end, as in `stream`). */
function replay(policy: ContinuousPolicy, trace: Trace): number[] {
  const ends: number[] = [];
  let confidence = new RunningConfidence(policy, trace.signInLlr);
  let restartAt = 0;
  for (const w of trace.windows) {
    // A new session has no window until it holds a whole one of its own, then one every hop (the
    // recording was made with a hop of 1 s: a longer hop verifies only the windows on its grid).
    if (w.end < restartAt + policy.windowSeconds || (w.end - restartAt - policy.windowSeconds) % policy.hopSeconds !== 0) continue;
    const step = w.llr === undefined ? confidence.rejectedWindow() : confidence.scored(w.end - restartAt, w.llr);
    if (step.end) {
      ends.push(w.end);
      confidence = new RunningConfidence(policy, trace.signInLlr);
      restartAt = w.end;
    }
  }
  return ends;
}

interface Outcome {
  genuineSeconds: number;
  /** False ends per genuine stream (person), then the ends before a switch in impostor streams. */
  falseEnds: number[];
  /** Seconds from the switch to the end, Infinity for a session B never ended. */
  timesToEnd: number[];
}

function outcome(traces: readonly Trace[], endsOf: (t: Trace) => number[]): Outcome {
  const out: Outcome = { genuineSeconds: 0, falseEnds: [], timesToEnd: [] };
  for (const t of traces) {
    const ends = endsOf(t);
    if (t.switchAt === undefined) {
      out.falseEnds.push(ends.length);
      out.genuineSeconds += t.windows.at(-1)?.end ?? 0;
      continue;
    }
    const after = ends.find((e) => e > t.switchAt!);
    out.timesToEnd.push(after === undefined ? Infinity : after - t.switchAt);
  }
  return out;
}

function summary(o: Outcome) {
  const t = o.timesToEnd;
  const finite = (x: number) => (Number.isFinite(x) ? x : null);
  return {
    genuineStreams: o.falseEnds.length,
    genuineMinutes: round(o.genuineSeconds / 60, 1),
    falseEnds: o.falseEnds.reduce((a, b) => a + b, 0),
    peopleWithAFalseEnd: o.falseEnds.filter((n) => n > 0).length,
    impostorPairs: t.length,
    endedWithin10s: round(t.filter((x) => x <= TARGET_SECONDS).length / t.length, 4),
    neverEnded: t.filter((x) => !Number.isFinite(x)).length,
    timeToEndSeconds: { p50: finite(percentile(t, 50)), p95: finite(percentile(t, 95)), max: finite(Math.max(...t)) },
  };
}

/** Fewest false ends, then most impostors ended within 10 s, then the lowest p95 and max time to end. */
function better(a: Outcome, b: Outcome): boolean {
  const key = (o: Outcome) => {
    const s = summary(o);
    return [s.falseEnds, -s.endedWithin10s, percentile(o.timesToEnd, 95), Math.max(...o.timesToEnd)];
  };
  const [ka, kb] = [key(a), key(b)];
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return (ka[i] as number) < (kb[i] as number);
  return false;
}

function grid(windows: readonly number[], hops: readonly number[]): ContinuousPolicy[] {
  return windows.flatMap((windowSeconds) =>
    hops.flatMap((hopSeconds) =>
      HALF_LIVES.flatMap((halfLifeSeconds) => KS.flatMap((windowsBelowFloor) => FLOORS.map((floor) => ({ ...DEFAULT_CONTINUOUS_POLICY, windowSeconds, hopSeconds, halfLifeSeconds, windowsBelowFloor, floor })))),
    ),
  );
}

function choose(candidates: readonly ContinuousPolicy[], traces: readonly Trace[]): { policy: ContinuousPolicy; outcome: Outcome } {
  let best: { policy: ContinuousPolicy; outcome: Outcome } | undefined;
  for (const policy of candidates) {
    const o = outcome(
      traces.filter((t) => t.windowSeconds === policy.windowSeconds),
      (t) => replay(policy, t),
    );
    if (best === undefined || better(o, best.outcome)) best = { policy, outcome: o };
  }
  return best!;
}

const pick = ({ windowSeconds, hopSeconds, halfLifeSeconds, floor, windowsBelowFloor }: ContinuousPolicy) => ({ windowSeconds, hopSeconds, halfLifeSeconds, floor, windowsBelowFloor });

async function main(): Promise<void> {
  const started = Date.now();
  const dataDir = resolve(args.data ?? sharedEegDir());
  const foldCount = positiveInt('folds', args.folds);
  const seed = positiveInt('seed', args.seed);
  const windowLengths = (args.windows ?? '').split(',').map((w) => positiveInt('windows', w));
  // A longer hop verifies fewer windows (cost) at the price of detection latency: reported per hop.
  const hops = (args.hops ?? '').split(',').map((h) => positiveInt('hops', h));
  const calibration = calibrationBeside(EEG_MODEL.file);
  if (!calibration) throw new Error(`models/${EEG_MODEL_NAME}.calibration.json is missing`);
  const { folds, description } = await outOfFoldProjections(EEG_MODEL, dataDir, foldCount, seed, progress);
  const montage = montageByName(EEG_MODEL.montage);
  const files = new Map((await listSubjects(dataDir)).map((f) => [f.id, f]));
  const dir = await mkdtemp(join(tmpdir(), 'tessera-continuous-'));
  const traces: Trace[] = [];
  const foldModels: { file: string; sessions: Map<string, Session>; people: Person[] }[] = [];
  try {
    for (const fold of folds) {
      const file = join(dir, `fold-${fold.index}.onnx`);
      await writeFile(file, projectionModel(fold.projection, description));
      const embedder = await NeuralEmbedder.load(file);
      const people: Person[] = [];
      for (const s of fold.test) {
        const f = files.get(s.id)!;
        people.push({ id: s.id, rest: selectMontage(await loadEdf(f.rest), montage), task: selectMontage(await loadEdf(f.task), montage) });
      }
      const sessions = new Map<string, Session>();
      for (const p of people) {
        const template = (await embedder.enroll([sliceRecording(p.rest, 0, 60)])).vector;
        sessions.set(p.id, { template, signInLlr: scoreLlr(calibration, score(template, await signInProbe(embedder, p.rest))) });
      }
      foldModels.push({ file, sessions, people });
      const model = await ContinuousModel.load(file, calibration);
      for (const windowSeconds of windowLengths) {
        const policy = recordAll(windowSeconds);
        const record = async (session: Session, spans: Span[], switchAt?: number) => {
          const { verdicts } = await stream(model, calibration, policy, session, spans);
          traces.push({ fold: fold.index, windowSeconds, signInLlr: session.signInLlr, windows: verdicts.map((v) => ({ end: v.endSeconds, llr: v.llr })), ...(switchAt === undefined ? {} : { switchAt }) });
        };
        for (const a of people) {
          await record(sessions.get(a.id)!, genuineSpans(a));
          for (const b of people.filter((x) => x !== a)) {
            await record(sessions.get(a.id)!, [...firstSeconds(genuineSpans(a), SWITCH_SECONDS), ...firstSeconds(genuineSpans(b), IMPOSTOR_SECONDS)], SWITCH_SECONDS);
          }
        }
        progress(`fold ${fold.index + 1}/${folds.length}, ${windowSeconds} s windows: ${people.length} genuine streams, ${people.length * (people.length - 1)} switches`);
      }
      await model.close();
    }

    const candidates = grid(windowLengths, hops);
    const nested = folds.map((fold) => {
      const { policy } = choose(
        candidates,
        traces.filter((t) => t.fold !== fold.index),
      );
      return { fold: fold.index, policy, outcome: outcome(traces.filter((t) => t.fold === fold.index && t.windowSeconds === policy.windowSeconds), (t) => replay(policy, t)) };
    });
    const pooled: Outcome = { genuineSeconds: 0, falseEnds: [], timesToEnd: [] };
    for (const n of nested) {
      pooled.genuineSeconds += n.outcome.genuineSeconds;
      pooled.falseEnds.push(...n.outcome.falseEnds);
      pooled.timesToEnd.push(...n.outcome.timesToEnd);
    }
    const chosen = choose(candidates, traces).policy;
    const byHop = hops.map((hopSeconds) => {
      const best = choose(candidates.filter((c) => c.hopSeconds === hopSeconds), traces);
      return { policy: pick(best.policy), note: 'chosen on all folds among this hop (replayed, not held out)', ...summary(best.outcome) };
    });
    progress(`chosen on all folds: ${JSON.stringify(pick(chosen))}; streaming it through the verifier`);

    // The chosen policy, streamed again with its own ends (and a new session after each).
    const final: Outcome = { genuineSeconds: 0, falseEnds: [], timesToEnd: [] };
    const perPerson: Record<string, number> = {};
    let rejected = 0;
    let windows = 0;
    for (const { file, sessions, people } of foldModels) {
      const model = await ContinuousModel.load(file, calibration);
      for (const a of people) {
        const session = sessions.get(a.id)!;
        const genuine = await stream(model, calibration, chosen, session, genuineSpans(a));
        final.falseEnds.push(genuine.ends.length);
        final.genuineSeconds += genuine.seconds;
        perPerson[a.id] = genuine.ends.length;
        rejected += genuine.verdicts.filter((v) => v.rejected !== undefined).length;
        windows += genuine.verdicts.length;
        for (const b of people.filter((x) => x !== a)) {
          const switched = await stream(model, calibration, chosen, session, [...firstSeconds(genuineSpans(a), SWITCH_SECONDS), ...firstSeconds(genuineSpans(b), IMPOSTOR_SECONDS)]);
          const after = switched.ends.find((e) => e > SWITCH_SECONDS);
          final.timesToEnd.push(after === undefined ? Infinity : after - SWITCH_SECONDS);
        }
      }
      await model.close();
    }

    process.stdout.write(
      `${JSON.stringify({
        data: dataDir.split('/').pop(),
        model: `${EEG_MODEL_NAME} settings, refitted per fold (out of fold)`,
        folds: folds.map((f) => f.test.map((s) => s.id)),
        protocol: `template: rest 0–60 s; sign-in probe: rest 60–70 s (or the first clean 10 s after); genuine stream: rest from 70 s + task run, twice (same data again to pass 5 min); impostor: ${SWITCH_SECONDS} s of A then up to ${IMPOSTOR_SECONDS} s of B, every ordered pair within a fold; 1 s frames, windows recorded every 1 s and replayed at each hop`,
        grid: { windowSeconds: windowLengths, hopSeconds: hops, halfLifeSeconds: HALF_LIVES, windowsBelowFloor: KS, floor: FLOORS },
        rule: 'fewest false ends, then most impostor sessions ended within 10 s, then lowest p95 and max time to end',
        nested: { perFold: nested.map((n) => ({ fold: n.fold, chosenOnOtherFolds: pick(n.policy), ...summary(n.outcome) })), pooled: summary(pooled) },
        byHop,
        chosen: { policy: pick(chosen), note: 'chosen on all folds: not held out', ...summary(final), falseEndsPerPerson: perPerson, artefactWindows: { rejected, of: windows } },
        calibration: { a: round(calibration.a, 3), b: round(calibration.b, 3) },
        seconds: Math.round((Date.now() - started) / 1000),
        loadAverage: round(loadavg()[0]!, 2),
      })}\n`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
