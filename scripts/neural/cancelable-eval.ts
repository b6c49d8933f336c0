import { randomBytes } from 'node:crypto';
import { CancelableScheme, type CancelableTemplate } from '../../src/biometrics/cancelable/index.js';
import { distribution, globalLinkability, storedTemplateScores } from '../../src/biometrics/cancelable/evaluation.js';
import { metrics, percentile, trials, type Metrics, type SubjectEmbeddings } from './protocol.js';

const round = (x: number, digits = 4): number => Number(x.toFixed(digits));
const roundedMetrics = (m: Metrics): Metrics => ({
  ...m,
  ...(m.atThreshold === undefined ? {} : { atThreshold: { threshold: m.atThreshold.threshold, far: round(m.atThreshold.far), frr: round(m.atThreshold.frr) } }),
  eer: round(m.eer),
  eerThreshold: round(m.eerThreshold),
  frrAtFar1: round(m.frrAtFar1),
  thresholdAtFar1: round(m.thresholdAtFar1),
});

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
  const accepted = (scores: readonly number[]) => round(scores.filter((s) => s >= threshold).length / scores.length, 5);
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
      twoMasterKeys: {
        mated: distribution(twoKeys.mated),
        sameSample: distribution(twoKeys.sameSample),
        nonMated: distribution(twoKeys.nonMated),
        acceptedAtThreshold: { mated: accepted(twoKeys.mated), sameSample: accepted(twoKeys.sameSample) },
        globalLinkability: globalLinkability(twoKeys.mated, twoKeys.nonMated),
      },
      reEnrolment: {
        mated: distribution(reEnrolment.mated),
        sameSample: distribution(reEnrolment.sameSample),
        acceptedAtThreshold: { mated: accepted(reEnrolment.mated), sameSample: accepted(reEnrolment.sameSample) },
        globalLinkability: globalLinkability(reEnrolment.mated, reEnrolment.nonMated),
      },
    },
  };
}
