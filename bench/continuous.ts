// Continuous EEG verification (src/continuous/): window verifications per second on one worker
// thread, then N concurrent simulated headsets, each pushing one 1 s frame of real eegmat signal
// (19 channels, 500 Hz) per second of wall clock through its own ContinuousVerifier (decoding,
// the window worker, the cancelable-template match, LLR, confidence), all in this one process:
// its CPU (process.cpuUsage counts the worker thread too), event-loop delay, windows per second,
// and RSS / main-thread heap per stream. The bar: 200 streams under 50% of one core.
// Standalone: `node --import tsx bench/continuous.ts` (BENCH_CONTINUOUS_SECONDS, BENCH_CONTINUOUS_STREAMS=50,100,200,300).
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { CancelableScheme } from '../src/biometrics/cancelable/index.js';
import { NeuralEmbedder } from '../src/biometrics/neural/embedder.js';
import { currentNeuralModel } from '../src/biometrics/neural/model-catalog.js';
import { montages, selectMontage } from '../src/biometrics/neural/montage.js';
import { sliceRecording } from '../src/biometrics/neural/recording.js';
import { ContinuousModel, ContinuousVerifier, DEFAULT_CONTINUOUS_POLICY, encodeFrame, isRefusal } from '../src/continuous/index.js';
import { loadEdf, sharedEegDir } from '../scripts/neural/dataset.js';

const SECONDS = Number(process.env.BENCH_CONTINUOUS_SECONDS ?? 30);
const LEVELS = (process.env.BENCH_CONTINUOUS_STREAMS ?? '50,100,200,300').split(',').map(Number);
/** Subjects whose resting minutes the simulated headsets replay (the v2 model's training people: only cost is measured here). */
const SUBJECTS = [21, 22, 23, 24, 25, 10];
const FRAMES_PER_SUBJECT = 120;
const log = (msg: string) => process.stderr.write(`continuous bench: ${msg}\n`);
const round = (x: number, digits = 1) => Number(x.toFixed(digits));
// The histogram records the time between its timer's firings: the lag is what exceeds the interval.
const LAG_RESOLUTION_MS = 10;
const lagMs = (ns: number) => round(Math.max(0, ns / 1e6 - LAG_RESOLUTION_MS));

const model = currentNeuralModel('clinical19');
const embedder = await NeuralEmbedder.load(model.file);
const continuous = await ContinuousModel.forModel(model);
const calibration = continuous.calibration!;
const scheme = new CancelableScheme(randomBytes(32), 'neural');
const electrodes = montages.clinical19.electrodes;
const hello = JSON.stringify({ type: 'hello', sampleRate: 500, channels: electrodes });

// Per subject: a cancelable template of the first resting minute and 1 s frames of the next two minutes.
const people = await Promise.all(
  SUBJECTS.map(async (s) => {
    const rest = selectMontage(await loadEdf(`${sharedEegDir()}/Subject${s}_1.edf`), montages.clinical19);
    const template = scheme.issue((await embedder.enroll([sliceRecording(rest, 0, 60)])).vector);
    const frames = Array.from({ length: FRAMES_PER_SUBJECT }, (_, i) => encodeFrame(0, rest.channels.map((c) => c.samples.subarray((60 + i) * 500, (61 + i) * 500))));
    return { template, frames };
  }),
);

async function openStream(i: number): Promise<{ verifier: ContinuousVerifier; frame: (sequence: number) => Uint8Array }> {
  const person = people[i % people.length]!;
  const verifier = await ContinuousVerifier.open({ hello, model: continuous, match: (e) => Math.cos(scheme.angle(e, person.template)), calibration, initialLlr: 10 });
  if (isRefusal(verifier)) throw new Error(verifier.reason);
  // What the transport hands over: a fresh buffer per message, with this stream's sequence number.
  const frame = (sequence: number) => {
    const bytes = Uint8Array.from(person.frames[(sequence + i) % FRAMES_PER_SUBJECT]!);
    new DataView(bytes.buffer).setUint32(0, sequence, true);
    return bytes;
  };
  return { verifier, frame };
}

// 1. Window verifications per second on the worker: streams pushed as fast as the worker answers.
async function throughput(streams: number, seconds: number) {
  const opened = await Promise.all(Array.from({ length: streams }, (_, i) => openStream(i)));
  // Every stream first needs one window's worth of signal.
  await Promise.all(opened.map(async (s) => { for (let q = 0; q < DEFAULT_CONTINUOUS_POLICY.windowSeconds; q++) await s.verifier.push(s.frame(q)); }));
  const cpu = process.cpuUsage();
  const started = performance.now();
  let windows = 0;
  await Promise.all(
    opened.map(async (s) => {
      for (let q = DEFAULT_CONTINUOUS_POLICY.windowSeconds; q < DEFAULT_CONTINUOUS_POLICY.windowSeconds + seconds; q++) {
        const r = await s.verifier.push(s.frame(q));
        if (!isRefusal(r)) windows += r.verdicts.length;
      }
    }),
  );
  const wall = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  await Promise.all(opened.map((s) => s.verifier.close()));
  return { streams, streamSecondsEach: seconds, windowsPerSecond: Math.round(windows / wall), cpuMsPerWindow: round((used.user + used.system) / 1000 / windows, 2) };
}

// 2. N streams at 1 Hz of wall clock.
async function realTime(n: number) {
  const baseline = process.memoryUsage();
  const opened = await Promise.all(Array.from({ length: n }, (_, i) => openStream(i)));
  let windows = 0;
  let ended = 0;
  let running = true;
  let measuring = false;
  const loops = opened.map(async (s, i) => {
    // Spread over the second, as independent headsets would be.
    await sleep((1000 * i) / n);
    const start = performance.now();
    for (let q = 0; running; q++) {
      const r = await s.verifier.push(s.frame(q));
      if (isRefusal(r)) throw new Error(r.reason);
      if (measuring) windows += r.verdicts.length;
      if (r.end) {
        // A genuine stream ended by mistake: it stops pushing, as the closed socket would.
        ended++;
        break;
      }
      const due = start + (q + 1) * 1000;
      await sleep(Math.max(0, due - performance.now()));
    }
  });
  // Warm-up: a whole window of signal per stream before the first window is verified.
  await sleep((DEFAULT_CONTINUOUS_POLICY.windowSeconds + 2) * 1000);
  const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  lag.enable();
  measuring = true;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await sleep(SECONDS * 1000);
  const wall = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  measuring = false;
  lag.disable();
  const memory = process.memoryUsage();
  running = false;
  await Promise.all(loops);
  await Promise.all(opened.map((s) => s.verifier.close()));
  return {
    streams: n,
    cpuPercentOfOneCore: round(((used.user + used.system) / 1e6 / wall) * 100),
    windowsPerSecond: round(windows / wall),
    eventLoopLagMs: { p50: lagMs(lag.percentile(50)), p99: lagMs(lag.percentile(99)), max: lagMs(lag.max) },
    sessionsEnded: ended,
    rssMb: round(memory.rss / 2 ** 20),
    rssPerStreamMb: round((memory.rss - baseline.rss) / 2 ** 20 / n, 2),
    mainHeapPerStreamKb: round((memory.heapUsed - baseline.heapUsed) / 1024 / n, 1),
  };
}

log('window throughput on one worker thread');
const worker = await throughput(20, 30);
const levels = [];
for (const n of LEVELS) {
  log(`${n} streams at 1 Hz for ${SECONDS} s`);
  levels.push(await realTime(n));
}
await continuous.close();
process.stdout.write(
  `${JSON.stringify({
    model: model.id,
    policy: DEFAULT_CONTINUOUS_POLICY,
    loadAverage: round(loadavg()[0]!, 2),
    workerThroughput: worker,
    streams: levels,
    bar: { streams: 200, cpuPercentOfOneCore: 50, met: (levels.find((l) => l.streams === 200)?.cpuPercentOfOneCore ?? Infinity) < 50 },
  })}\n`,
);
