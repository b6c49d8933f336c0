// `npm run models:train-pad [-- --data DIR]`: cross-validates the PAD model on the shared NUAA
// print-attack set (session-disjoint, person-disjoint, both), prints the figures as JSON, then
// fits the shipped model on all of it and writes models/face-pad.onnx. Deterministic: the same
// data give the same file.
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_PAD_THRESHOLD, FacePipeline, MODEL_FILES } from '../../src/biometrics/face/index.js';
import { MODELS_DIR } from '../../src/paths.js';
import { sharedDataDir } from '../../test/unit/face-support.js';
import { BURST_RULES, BURST_SIZES, type BurstRule, type BurstSize } from './bursts.js';
import { sampleChips } from './chips.js';
import { readPadDataset } from './dataset.js';
import { chipFeatures } from './features.js';
import { apcerAtBpcer, errorRates, type PadErrorRates } from './metrics.js';
import { fit, folds, runFold, select, TARGET_BPCER, type Example } from './protocol.js';
import { FEATURE_NAMES, padModel } from './pad-graph.js';

const round = (x: number) => Math.round(x * 10000) / 10000;
const rates = (r: PadErrorRates) => ({ threshold: round(r.threshold), apcer: round(r.worstApcer), bpcer: round(r.bpcer), acer: round(r.acer) });

const { values } = parseArgs({ options: { data: { type: 'string' } } });
const dataDir = values.data ?? join(sharedDataDir(), 'pad-nuaa-train');
const pipeline = await FacePipeline.create(MODELS_DIR);
const chips = await sampleChips(pipeline, await readPadDataset(dataDir));
const usable = chips.filter((c) => c.chip !== undefined);
const features = await chipFeatures(usable.map((c) => c.chip!));
const examples: Example[] = usable.map((c, i) => ({ kind: c.sample.kind, person: c.sample.person, session: c.sample.session ?? '', clip: c.sample.clip, features: features[i]! }));

const protocols: Record<string, unknown> = {};
for (const [name, protocolFolds] of Object.entries(folds(examples))) {
  const results = protocolFolds.map((fold) => runFold(examples, fold));
  const pooled = results.flatMap((r) => r.scores);
  protocols[name] = {
    folds: results.map((r) => ({
      fold: r.fold, train: r.train, test: r.test, lambda: r.lambda,
      atDefaultThreshold: rates(r.atDefaultThreshold),
      atInnerThreshold: rates(r.atInnerThreshold),
      apcerAtBpcer1: round(r.apcerAtBpcer1), apcerAtBpcer5: round(r.apcerAtBpcer5),
    })),
    pooled: {
      atDefaultThreshold: rates(errorRates(pooled, DEFAULT_PAD_THRESHOLD)),
      apcerAtBpcer1: round(apcerAtBpcer(pooled, 0.01).worstApcer),
      apcerAtBpcer5: round(apcerAtBpcer(pooled, 0.05).worstApcer),
    },
    // Bursts of all folds, of each size the capture page sends, at the default threshold (and APCER
    // at BPCER 5 %), under the server's rule and the strictest one.
    bursts: Object.fromEntries((Object.keys(BURST_SIZES) as BurstSize[]).map((size) => [size, Object.fromEntries((Object.keys(BURST_RULES) as BurstRule[]).map((rule) => {
      const bursts = results.flatMap((r) => r.bursts[size][rule]);
      return [rule, { bursts: bursts.length, ...rates(errorRates(bursts, DEFAULT_PAD_THRESHOLD)), apcerAtBpcer5: round(apcerAtBpcer(bursts, 0.05).worstApcer) }];
    }))])),
  };
}

const chosen = select(examples);
const head = fit(examples, chosen.lambda);
const model = padModel(head, `Tessera face PAD: chip statistics + logistic regression, trained on ${examples.length} NUAA frames (lambda ${chosen.lambda})`);
await writeFile(join(MODELS_DIR, MODEL_FILES.pad), model);
console.log(JSON.stringify({
  data: dataDir,
  frames: chips.length,
  failedToAcquire: chips.filter((c) => c.chip === undefined).map((c) => ({ file: c.sample.path.slice(dataDir.length + 1), reason: c.failure })),
  features: FEATURE_NAMES,
  burstFrames: BURST_SIZES,
  protocols,
  model: { file: `models/${MODEL_FILES.pad}`, bytes: model.length, sha256: createHash('sha256').update(model).digest('hex'), lambda: chosen.lambda, lambdaRule: `inner leave-people-out, lowest APCER at BPCER ${TARGET_BPCER * 100}%`, defaultThreshold: DEFAULT_PAD_THRESHOLD },
}));
