/**
 * npm run eval:neural -- --data <dir> [--model models/neural-clinical19-v2.onnx]
 *
 * Evaluates the neural-signal verifier on every SubjectNN_1.edf / SubjectNN_2.edf pair in a
 * folder (people the model may never have seen): enrollment on the first minute of the resting
 * run, single 10 s probes from the task run (cross-condition) and from later, non-overlapping
 * resting windows (same-condition). The figures are printed for plain embeddings and for cancelable
 * templates (`cancelable`), with the unlinkability/revocation block (`unlinkability`).
 * JSON result on stdout, progress on stderr.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { NeuralEmbedder } from '../../src/biometrics/neural/embedder.js';
import { currentNeuralModel } from '../../src/biometrics/neural/model-catalog.js';
import { listSubjects } from './dataset.js';
import { evaluateWithEmbedder } from './evaluate.js';
import { cancelableEvaluation } from './cancelable-eval.js';
import { protocol, type SubjectEmbeddings } from './protocol.js';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string' },
    model: { type: 'string', default: currentNeuralModel('clinical19').file },
  },
});

async function main(): Promise<void> {
  if (args.data === undefined) throw new Error('usage: npm run eval:neural -- --data <folder of SubjectNN_1.edf/SubjectNN_2.edf> [--model <onnx>]');
  const subjects = await listSubjects(args.data);
  if (subjects.length < 2) throw new Error(`${args.data} holds ${subjects.length} SubjectNN_1/_2 pairs; at least 2 are needed for impostor trials`);
  const model = args.model ?? currentNeuralModel('clinical19').file;
  const embedder = await NeuralEmbedder.load(model);
  process.stderr.write(`evaluating ${model} on ${subjects.length} subjects from ${args.data}\n`);
  let embeddings: readonly SubjectEmbeddings[] = [];
  const report = await evaluateWithEmbedder(embedder, subjects, (line) => process.stderr.write(`${line}\n`), (e) => (embeddings = e));
  const threshold = embedder.threshold;
  const { report: cancelable, unlinkability } = cancelableEvaluation(embeddings, threshold);
  process.stdout.write(
    `${JSON.stringify(
      {
        model,
        protocol,
        threshold,
        ...report,
        cancelable,
        unlinkability,
        machine: { cpus: os.cpus().length, loadAverage1m: Number(os.loadavg()[0]?.toFixed(2)) },
      },
      null,
      2,
    )}\n`,
  );
}

await main();
