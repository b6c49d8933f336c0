import { randomBytes } from 'node:crypto';
import { CancelableScheme, type CancelableTemplate } from '../../src/biometrics/cancelable/index.js';
import { distribution, revocationReport, storedTemplateScores } from '../../src/biometrics/cancelable/evaluation.js';
import { metrics, percentile, roundedMetrics, trials, type SubjectEmbeddings } from './protocol.js';

const round = (x: number, digits = 4): number => Number(x.toFixed(digits));

/**
 * The protocol's trials with each person's template stored as a cancelable template (its own key,
 * as the neural step enrols it) and scored as the step does (cosine at the estimated angle), the
 * comparison's latency, and the unlinkability/revocation block: every template and probe
 * embedding, enrolled as a template under two master keys (two deployments) and again under the
 * same master key with new salts (re-enrolment), compared bits against bits.
 */
export function cancelableEvaluation(embeddings: readonly SubjectEmbeddings[], threshold: number) {
  const scheme = new CancelableScheme(randomBytes(32), 'neural');
  const issued = new Map(embeddings.map((e) => [e.template, scheme.issue(e.template)]));
  const times: number[] = [];
  const score = (template: Float32Array, probe: Float32Array) => {
    const started = performance.now();
    const angle = scheme.angle(probe, issued.get(template)!);
    times.push(performance.now() - started);
    return Math.cos(angle);
  };
  const cross = trials(embeddings, 'crossCondition', score);
  const same = trials(embeddings, 'sameCondition', score);

  const vectors = embeddings.flatMap((e) => [e.template, ...e.crossCondition, ...e.sameCondition].map((vector) => ({ identity: e.id, vector })));
  const issueAll = (s: CancelableScheme) => vectors.map(({ identity, vector }) => ({ identity, template: s.issue(vector) as CancelableTemplate }));
  const deploymentA = issueAll(scheme);
  const twoKeys = storedTemplateScores(deploymentA, issueAll(new CancelableScheme(randomBytes(32), 'neural')), Math.cos);
  const reEnrolment = storedTemplateScores(deploymentA, issueAll(scheme), Math.cos);
  return {
    report: {
      bits: scheme.bitCount,
      crossCondition: roundedMetrics(metrics(cross, threshold)),
      sameCondition: roundedMetrics(metrics(same, threshold)),
      comparisonUs: { p50: round(percentile(times, 50) * 1000, 1), p95: round(percentile(times, 95) * 1000, 1), comparisons: times.length },
    },
    unlinkability: {
      score: 'cosine at the estimated angle (1 same … −1 opposite); accept ≥ threshold',
      threshold,
      templates: vectors.length,
      sameKey: { mated: distribution([...cross.genuine, ...same.genuine]), nonMated: distribution([...cross.impostor, ...same.impostor]) },
      ...revocationReport(twoKeys, reEnrolment, (c) => c >= threshold),
    },
  };
}
