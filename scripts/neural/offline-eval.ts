import { meanDirection, score } from '../../src/biometrics/neural/embedder.js';
import type { SubjectFeatures } from './features-cache.js';
import { applyProjection, type Projection } from './projection.js';
import { dPrime, enrollmentStarts, metrics, probeStarts, protocol, trials, type Metrics, type SubjectEmbeddings, type Trials } from './protocol.js';

/** The protocol's templates and probes from cached window features, projected in TS (no ONNX session). */
export function embeddingsFor(subjects: readonly SubjectFeatures[], projection: Projection): SubjectEmbeddings[] {
  return subjects.map((s) => {
    const pick = (run: SubjectFeatures['rest'], starts: number[]): Float32Array[] =>
      starts.flatMap((t) => {
        const f = run.byStart.get(t);
        return f === undefined ? [] : [applyProjection(projection, f)];
      });
    return {
      id: s.id,
      template: meanDirection(pick(s.rest, enrollmentStarts())),
      sameCondition: pick(s.rest, probeStarts(s.rest.durationSeconds, protocol.sameConditionStartSeconds)),
      crossCondition: pick(s.task, probeStarts(s.task.durationSeconds, 0)),
    };
  });
}

export interface OfflineResult {
  cross: Trials;
  same: Trials;
}

export function offlineTrials(subjects: readonly SubjectFeatures[], projection: Projection): OfflineResult {
  const embeddings = embeddingsFor(subjects, projection);
  return { cross: trials(embeddings, 'crossCondition', score), same: trials(embeddings, 'sameCondition', score) };
}

export function summarise(result: OfflineResult, threshold?: number): { cross: Metrics; same: Metrics; separation: number } {
  return {
    cross: metrics(result.cross, threshold),
    same: metrics(result.same, threshold),
    separation: (dPrime(result.cross) + dPrime(result.same)) / 2,
  };
}
