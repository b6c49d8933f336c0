import { performance } from 'node:perf_hooks';
import { score, type NeuralEmbedder } from '../../src/biometrics/neural/embedder.js';
import { NeuralInputError } from '../../src/biometrics/neural/errors.js';
import { durationSeconds, sliceRecording, type Recording } from '../../src/biometrics/neural/recording.js';
import { loadEdf, type SubjectFiles } from './dataset.js';
import { enrollmentStarts, metrics, percentile, probeStarts, protocol, roundedMetrics, trials, type Metrics, type SubjectEmbeddings } from './protocol.js';

export interface EvaluationReport {
  subjects: string[];
  notEnrolled: { id: string; reason: string }[];
  crossCondition: Metrics;
  sameCondition: Metrics;
  probesRejected: number;
  /** Wall-clock time per probe, raw 10 s samples → score; `cpu` is this process's CPU time for the same work. */
  latencyMs: { p50: number; p95: number; probes: number; cpuP50: number; cpuP95: number };
}

const round = (x: number, digits = 4): number => Number(x.toFixed(digits));

/**
 * Runs the protocol through the real verifier: EDF → slices → NeuralEmbedder (quality checks,
 * features, ONNX) → cosine. Latency is timed per probe from raw 10 s samples to the score.
 */
export async function evaluateWithEmbedder(
  embedder: NeuralEmbedder,
  subjects: readonly SubjectFiles[],
  progress: (line: string) => void,
  /** Receives the templates and probe embeddings the figures were computed from. */
  onEmbeddings?: (embeddings: readonly SubjectEmbeddings[]) => void,
): Promise<EvaluationReport> {
  const embeddings: SubjectEmbeddings[] = [];
  const latencies: number[] = [];
  const cpuTimes: number[] = [];
  let rejected = 0;
  const notEnrolled: { id: string; reason: string }[] = [];

  const enrolled: { id: string; template: Float32Array; rest: Recording; task: Recording }[] = [];
  for (const files of subjects) {
    try {
      const rest = await loadEdf(files.rest);
      const task = await loadEdf(files.task);
      const enrollment = enrollmentStarts().flatMap((t) => (t + protocol.windowSeconds <= durationSeconds(rest) ? [sliceRecording(rest, t, protocol.windowSeconds)] : []));
      const template = (await embedder.enroll(enrollment)).vector;
      enrolled.push({ id: files.id, template, rest, task });
      progress(`enrolled ${files.id}`);
    } catch (err) {
      // A person whose files or first minute are unusable cannot enroll; the evaluation goes on without them.
      if (!(err instanceof NeuralInputError)) throw err;
      notEnrolled.push({ id: files.id, reason: err.code });
      progress(`${files.id} not enrolled: ${err.message}`);
    }
  }

  if (enrolled.length < 2) throw new Error(`only ${enrolled.length} subject(s) could enroll; impostor trials need at least 2`);

  for (const subject of enrolled) {
    const probe = async (recording: Recording, starts: number[]): Promise<Float32Array[]> => {
      const out: Float32Array[] = [];
      for (const t of starts) {
        const slice = sliceRecording(recording, t, protocol.windowSeconds);
        try {
          const t0 = performance.now();
          const cpu0 = process.cpuUsage();
          const vector = (await embedder.embed(slice)).vector;
          score(subject.template, vector);
          const cpu = process.cpuUsage(cpu0);
          latencies.push(performance.now() - t0);
          cpuTimes.push((cpu.user + cpu.system) / 1000);
          out.push(vector);
        } catch (err) {
          if (!(err instanceof NeuralInputError)) throw err;
          rejected++;
          progress(`${subject.id} probe at ${t} s rejected: ${err.code}`);
        }
      }
      return out;
    };
    embeddings.push({
      id: subject.id,
      template: subject.template,
      sameCondition: await probe(subject.rest, probeStarts(durationSeconds(subject.rest), protocol.sameConditionStartSeconds)),
      crossCondition: await probe(subject.task, probeStarts(durationSeconds(subject.task), 0)),
    });
    progress(`probed ${subject.id}`);
  }

  onEmbeddings?.(embeddings);
  return {
    subjects: enrolled.map((s) => s.id),
    notEnrolled,
    crossCondition: roundedMetrics(metrics(trials(embeddings, 'crossCondition', score), embedder.threshold)),
    sameCondition: roundedMetrics(metrics(trials(embeddings, 'sameCondition', score), embedder.threshold)),
    probesRejected: rejected,
    latencyMs: {
      p50: round(percentile(latencies, 50), 2),
      p95: round(percentile(latencies, 95), 2),
      probes: latencies.length,
      cpuP50: round(percentile(cpuTimes, 50), 2),
      cpuP95: round(percentile(cpuTimes, 95), 2),
    },
  };
}
