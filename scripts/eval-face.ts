// `npm run eval:face -- --data <dir> [--threshold t] [--models dir]`: verification accuracy and
// latency of the face pipeline on a folder holding one sub-folder of images per identity.
// Prints JSON on stdout; progress goes to stderr.
import { readdir, readFile, stat } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_MATCH_THRESHOLD, FacePipeline, isFaceError, matchAgainst, embeddingDistance } from '../src/biometrics/face/index.js';
import { percentile, ScoreSet } from '../src/biometrics/face/evaluation.js';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.pgm', '.ppm']);

interface Sample {
  readonly identity: string;
  readonly file: string;
  readonly embedding?: Float32Array;
  readonly failure?: string;
}

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
  // stat, not the dirent type, so symlinked identity folders count too.
  const entries = (await readdir(root)).sort();
  const identities: string[] = [];
  for (const name of entries) if ((await stat(join(root, name))).isDirectory()) identities.push(name);
  const files: Array<{ identity: string; file: string }> = [];
  for (const identity of identities) {
    const names = (await readdir(join(root, identity))).filter((n) => IMAGE_EXTENSIONS.has(extname(n).toLowerCase())).sort();
    for (const name of names) files.push({ identity, file: join(root, identity, name) });
  }
  if (files.length === 0) throw new Error(`no images under ${root}`);

  // Warm-up so the first inference's allocations do not count as verification latency.
  await pipeline.analyse(await readFile(files[0]!.file)).catch(() => undefined);

  const samples: Sample[] = [];
  const latencies: number[] = [];
  // CPU time of the process (all inference threads) per frame: unlike wall time it does not grow
  // when other programs share the cores, and it bounds the wall time of an otherwise idle machine.
  const cpuTimes: number[] = [];
  const failures: Record<string, number> = {};
  for (const [i, { identity, file }] of files.entries()) {
    const bytes = await readFile(file);
    const enrolled = samples.find((s) => s.identity === identity && s.embedding)?.embedding;
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    try {
      const { embedding } = await pipeline.analyse(bytes);
      // The decision against one enrolled template is part of a verification's latency.
      if (enrolled) matchAgainst(embedding, [enrolled], threshold);
      latencies.push(performance.now() - started);
      const cpu = process.cpuUsage(cpuStarted);
      cpuTimes.push((cpu.user + cpu.system) / 1000);
      samples.push({ identity, file, embedding });
    } catch (error) {
      if (!isFaceError(error)) throw error;
      failures[error.reason] = (failures[error.reason] ?? 0) + 1;
      process.stderr.write(`not acquired (${error.reason}): ${file}\n`);
      samples.push({ identity, file, failure: error.reason });
    }
    if ((i + 1) % 100 === 0 || i + 1 === files.length) process.stderr.write(`analysed ${i + 1}/${files.length}\n`);
  }

  process.stderr.write('scoring pairs\n');
  const all = pairScores(samples, false);
  const acquired = pairScores(samples, true);
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
    latencyMs: { p50: round(percentile(latencies, 50), 1), p95: round(percentile(latencies, 95), 1), frames: latencies.length },
    cpuMs: { p50: round(percentile(cpuTimes, 50), 1), p95: round(percentile(cpuTimes, 95), 1) },
    loadAverage: round(loadavg()[0]!, 2),
    pipeline: { detectorInputSize: pipeline.options.detectorInputSize, threads: pipeline.options.threads },
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

/** All genuine (same folder) and impostor (different folders) pairs; failed images score +Infinity. */
function pairScores(samples: readonly Sample[], acquiredOnly: boolean): ScoreSet {
  const genuine: number[] = [];
  const impostor: number[] = [];
  const usable = acquiredOnly ? samples.filter((s) => s.embedding) : samples;
  for (let i = 0; i < usable.length; i++) {
    for (let j = i + 1; j < usable.length; j++) {
      const a = usable[i]!;
      const b = usable[j]!;
      const d = a.embedding && b.embedding ? embeddingDistance(a.embedding, b.embedding) : Infinity;
      (a.identity === b.identity ? genuine : impostor).push(d);
    }
  }
  return new ScoreSet(genuine, impostor);
}

function round(x: number, digits: number): number {
  return Number.isFinite(x) ? Number(x.toFixed(digits)) : x;
}

function rounded<T extends object>(r: T): T {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? round(v, 5) : v])) as T;
}

await main();
