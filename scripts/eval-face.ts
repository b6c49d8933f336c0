// `npm run eval:face -- --data <dir> [--threshold t] [--models dir]`: verification accuracy and
// latency of the face pipeline on a folder holding one sub-folder of images per identity, with
// plain embeddings and with cancelable templates (`cancelable`), and how unlinkable and revocable
// the stored templates are (`unlinkability`). Prints JSON on stdout; progress goes to stderr.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CancelableScheme, chordOfAngle, hammingFraction, type CancelableTemplate } from '../src/biometrics/cancelable/index.js';
import { distribution, revocationReport, storedTemplateScores } from '../src/biometrics/cancelable/evaluation.js';
import { DEFAULT_MATCH_THRESHOLD, FacePipeline, matchAgainst, embeddingDistance } from '../src/biometrics/face/index.js';
import { percentile } from '../src/biometrics/face/evaluation.js';
import { embedImages, listIdentityImages, pairScores, type FaceSample } from './face-dataset.js';

// Cancelable scoring: the template of photo i is under key i mod KEYS, and the probe is projected
// with the template's key, as the face step does. A pair's error depends only on its own key, so a
// pool of keys gives the expected error rates of one key per template at 1/100 of the projections.
const KEYS = 16;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      threshold: { type: 'string' },
      models: { type: 'string' },
      'detector-size': { type: 'string' },
    },
  });
  if (!values.data) throw new Error('usage: npm run eval:face -- --data <dir with one folder per identity> [--threshold 0.5]');
  const threshold = values.threshold === undefined ? DEFAULT_MATCH_THRESHOLD : Number(values.threshold);
  if (!Number.isFinite(threshold)) throw new Error(`bad --threshold ${values.threshold}`);
  const modelsDir = values.models ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'models');
  const pipeline = await FacePipeline.create(modelsDir, values['detector-size'] ? { detectorInputSize: Number(values['detector-size']) } : {});

  const root = resolve(values.data);
  const { identities, files } = await listIdentityImages(root);

  // Warm-up so the first inference's allocations do not count as verification latency.
  await pipeline.analyse(await readFile(files[0]!.file)).catch(() => undefined);

  const scheme = new CancelableScheme(randomBytes(32), 'face');
  // Each identity's first acquired photo is its enrolled (cancelable) template.
  const enrolledByIdentity = new Map<string, CancelableTemplate>();
  const latencies: number[] = [];
  // CPU time of the process (all inference threads) per frame: unlike wall time it does not grow
  // when other programs share the cores, and it bounds the wall time of an otherwise idle machine.
  const cpuTimes: number[] = [];
  const { samples, failures } = await embedImages(
    files,
    async (bytes, { identity }) => {
      const enrolled = enrolledByIdentity.get(identity);
      const started = performance.now();
      const cpuStarted = process.cpuUsage();
      const { embedding } = await pipeline.analyse(bytes);
      // The decision against one enrolled (cancelable) template is part of a verification's latency.
      if (enrolled) matchAgainst(embedding, [{ kind: 'cancelable', template: enrolled }], scheme, threshold);
      latencies.push(performance.now() - started);
      const cpu = process.cpuUsage(cpuStarted);
      cpuTimes.push((cpu.user + cpu.system) / 1000);
      if (!enrolled) enrolledByIdentity.set(identity, scheme.issue(embedding));
      return embedding;
    },
    (line) => process.stderr.write(`${line}\n`),
  );

  process.stderr.write('scoring pairs\n');
  const plainDistance = (a: FaceSample, b: FaceSample) => embeddingDistance(a.embedding!, b.embedding!);
  const all = pairScores(samples, false, plainDistance);
  const acquired = pairScores(samples, true, plainDistance);
  process.stderr.write(`cancelable templates (${scheme.bitCount} bits)\n`);
  const cancelable = cancelableFigures(samples, scheme, threshold);
  const report = {
    data: root,
    identities: identities.length,
    images: files.length,
    failedToAcquire: Object.values(failures).reduce((a, b) => a + b, 0),
    failuresByReason: failures,
    pairs: { genuine: all.genuine.length, impostor: all.impostor.length },
    threshold,
    atThreshold: rounded(all.at(threshold)),
    eer: rounded(all.equalErrorRate()),
    frrAtFar0_1pct: rounded(all.frrAtFar(0.001)),
    acquiredPairsOnly: {
      pairs: { genuine: acquired.genuine.length, impostor: acquired.impostor.length },
      eer: rounded(acquired.equalErrorRate()),
      frrAtFar0_1pct: rounded(acquired.frrAtFar(0.001)),
    },
    cancelable: cancelable.report,
    unlinkability: cancelable.unlinkability,
    latencyMs: { p50: round(percentile(latencies, 50), 1), p95: round(percentile(latencies, 95), 1), frames: latencies.length },
    cpuMs: { p50: round(percentile(cpuTimes, 50), 1), p95: round(percentile(cpuTimes, 95), 1) },
    loadAverage: round(loadavg()[0]!, 2),
    pipeline: { detectorInputSize: pipeline.options.detectorInputSize, threads: pipeline.options.threads },
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

/**
 * The same pairs scored with cancelable templates, the comparison's latency, and the
 * unlinkability/revocation block: stored templates compared bits against bits across two master
 * keys (two deployments) and across a re-enrolment (same master key, new salts).
 */
function cancelableFigures(samples: readonly FaceSample[], scheme: CancelableScheme, threshold: number) {
  const salts = Array.from({ length: KEYS }, () => randomBytes(16));
  const index = new Map(samples.map((s, i) => [s, i]));
  const projected = salts.map((salt) => samples.map((s) => s.embedding && scheme.protect(s.embedding, salt, scheme.bitCount)));
  const cancelableDistance = (a: FaceSample, b: FaceSample) => {
    const i = index.get(a)!;
    const keyed = projected[i % KEYS]!;
    return chordOfAngle(Math.PI * hammingFraction(keyed[i]!.bits, keyed[index.get(b)!]!.bits, scheme.bitCount));
  };
  const all = pairScores(samples, false, cancelableDistance);
  const acquired = pairScores(samples, true, cancelableDistance);

  const embeddings = samples.flatMap((s) => (s.embedding ? [{ identity: s.identity, embedding: s.embedding }] : []));
  const times: number[] = [];
  const probeTemplate = scheme.issue(embeddings[0]!.embedding);
  for (const { embedding } of embeddings) {
    const started = performance.now();
    scheme.angle(embedding, probeTemplate);
    times.push(performance.now() - started);
  }

  const issueAll = (s: CancelableScheme) => embeddings.map(({ identity, embedding }) => ({ identity, template: s.issue(embedding) as CancelableTemplate }));
  const deploymentA = issueAll(scheme);
  const deploymentB = issueAll(new CancelableScheme(randomBytes(32), 'face'));
  const reEnrolled = issueAll(scheme);
  const twoKeys = storedTemplateScores(deploymentA, deploymentB, chordOfAngle);
  const reEnrolment = storedTemplateScores(deploymentA, reEnrolled, chordOfAngle);
  return {
    report: {
      bits: scheme.bitCount,
      keys: KEYS,
      atThreshold: rounded(all.at(threshold)),
      eer: rounded(all.equalErrorRate()),
      frrAtFar0_1pct: rounded(all.frrAtFar(0.001)),
      acquiredPairsOnly: { eer: rounded(acquired.equalErrorRate()), frrAtFar0_1pct: rounded(acquired.frrAtFar(0.001)) },
      comparisonUs: { p50: round(percentile(times, 50) * 1000, 1), p95: round(percentile(times, 95) * 1000, 1), comparisons: times.length },
    },
    unlinkability: {
      score: 'euclidean distance at the estimated angle (0 same … 2 opposite); accept ≤ threshold',
      threshold,
      sameKey: { mated: distribution([...all.genuine]), nonMated: distribution([...all.impostor]) },
      ...revocationReport(twoKeys, reEnrolment, (d) => d <= threshold),
    },
  };
}

function round(x: number, digits: number): number {
  return Number.isFinite(x) ? Number(x.toFixed(digits)) : x;
}

function rounded<T extends object>(r: T): T {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? round(v, 5) : v])) as T;
}

await main();
