// `npm run eval:pad -- --data DIR`: the shipped PAD model on a presentation-attack folder
// (bona-fide/<person>/…, attack/<species>/<person>/…; images or frame folders). Prints one JSON
// line in ISO/IEC 30107-3 terms: APCER per attack species, BPCER and ACER at the configured
// threshold (TESSERA_FACE_PAD_THRESHOLD or its default), worst-species APCER at BPCER 1 % and 5 %,
// and the PAD model's latency per frame. Frames are counted one by one; folders of frames are also
// scored as presentations with the server's burst rule (the mean).
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/load.js';
import { FacePipeline, MODEL_FILES } from '../../src/biometrics/face/index.js';
import { PadModel } from '../../src/biometrics/face/pad.js';
import { MODELS_DIR } from '../../src/paths.js';
import { burstPadScore } from '../../src/steps/face/presentation-attack.js';
import { sampleChips } from './chips.js';
import { readPadDataset } from './dataset.js';
import { apcerAtBpcer, errorRates, type Scored } from './metrics.js';

const { values } = parseArgs({ options: { data: { type: 'string' } } });
if (!values.data) {
  console.error('usage: npm run eval:pad -- --data DIR');
  process.exit(2);
}
const round = (x: number) => Math.round(x * 10000) / 10000;
const quantile = (sorted: number[], q: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
const rounded = (r: Record<string, number>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, round(v)]));

const threshold = loadConfig(process.env).facePadThreshold;
const pipeline = await FacePipeline.create(MODELS_DIR);
// The server's PAD session settings (one thread), timed on its own, frame by frame.
const pad = await PadModel.create(join(MODELS_DIR, MODEL_FILES.pad), 1);
const chips = await sampleChips(pipeline, await readPadDataset(values.data));
const usable = chips.filter((c) => c.chip !== undefined);
const frames: Array<Scored & { presentation: string }> = [];
const latencies: number[] = [];
for (const { sample, chip } of usable) {
  const start = performance.now();
  const [score] = await pad.scores([chip!]);
  latencies.push(performance.now() - start);
  frames.push({ kind: sample.kind, score: score!, presentation: sample.presentation });
}
latencies.sort((a, b) => a - b);

function summary(scored: readonly Scored[]) {
  const at = errorRates(scored, threshold);
  const at1 = apcerAtBpcer(scored, 0.01);
  const at5 = apcerAtBpcer(scored, 0.05);
  return {
    count: Object.fromEntries([...new Set(scored.map((s) => s.kind))].sort().map((k) => [k, scored.filter((s) => s.kind === k).length])),
    threshold,
    apcer: rounded(at.apcer), worstApcer: round(at.worstApcer), bpcer: round(at.bpcer), acer: round(at.acer),
    apcerAtBpcer1: { apcer: rounded(at1.apcer), worstApcer: round(at1.worstApcer), bpcer: round(at1.bpcer), threshold: round(at1.threshold) },
    apcerAtBpcer5: { apcer: rounded(at5.apcer), worstApcer: round(at5.worstApcer), bpcer: round(at5.bpcer), threshold: round(at5.threshold) },
  };
}

const byPresentation = new Map<string, Array<Scored>>();
for (const f of frames) byPresentation.set(f.presentation, [...(byPresentation.get(f.presentation) ?? []), f]);
const folders = [...byPresentation.values()].some((p) => p.length > 1);

console.log(JSON.stringify({
  data: values.data,
  model: `models/${MODEL_FILES.pad}`,
  frames: summary(frames),
  ...(folders ? { presentations: summary([...byPresentation.values()].map((p) => ({ kind: p[0]!.kind, score: burstPadScore(p.map((s) => s.score)) }))) } : {}),
  failedToAcquire: chips.length - usable.length,
  padLatencyMsPerFrame: { p50: quantile(latencies, 0.5), p95: quantile(latencies, 0.95) },
}));
