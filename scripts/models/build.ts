// `npm run models:build`: converts the TF.js weights shipped in @vladmandic/face-api into ONNX files
// under models/. Offline and deterministic: the same package version gives byte-identical files.
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDetectorNet } from './ssd-mobilenet.js';
import { buildLandmarkNet } from './landmark-net.js';
import { buildRecognitionNet } from './recognition-net.js';
import { readTfjsWeights, type Weight } from './tfjs-weights.js';

const SOURCE_PACKAGE = '@vladmandic/face-api';
const SOURCE_VERSION = '1.7.15';

const MODELS: ReadonlyArray<{ file: string; source: string; build: (w: Map<string, Weight>) => Uint8Array }> = [
  { file: 'face-recognition.onnx', source: 'face_recognition_model', build: buildRecognitionNet },
  { file: 'face-detector.onnx', source: 'ssd_mobilenetv1_model', build: buildDetectorNet },
  { file: 'face-landmark-68.onnx', source: 'face_landmark_68_model', build: buildLandmarkNet },
];

async function main(): Promise<void> {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  const pkgJson = createRequire(import.meta.url).resolve(`${SOURCE_PACKAGE}/package.json`);
  const pkg = JSON.parse(await readFile(pkgJson, 'utf8')) as { version: string };
  // The model cards' parity figures hold for this exact weights release.
  if (pkg.version !== SOURCE_VERSION) throw new Error(`${SOURCE_PACKAGE} is ${pkg.version}, expected ${SOURCE_VERSION}`);
  const weightsDir = join(dirname(pkgJson), 'model');
  const outDir = join(root, 'models');
  await mkdir(outDir, { recursive: true });
  for (const model of MODELS) {
    const bytes = model.build(await readTfjsWeights(weightsDir, model.source));
    await writeFile(join(outDir, model.file), bytes);
    const sha = createHash('sha256').update(bytes).digest('hex');
    console.log(`models/${model.file}  ${(bytes.length / 1e6).toFixed(1)} MB  sha256 ${sha}`);
  }
}

await main();
