// Shared helpers of the face tests: where the models and the shared photo sets are.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FacePipeline, MODEL_FILES } from '../../src/biometrics/face/index.js';
import { BURST_QUALITY } from '../../src/steps/face/burst.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const MODELS_DIR = join(REPO, 'models');
export const FACE_API_DIR = join(REPO, 'node_modules/@vladmandic/face-api');
export const SAMPLE_PHOTOS = join(FACE_API_DIR, 'demo');

/**
 * The shared data folder (never copied into the repo): $TESSERA_SHARED_DATA, else ../shared/data
 * beside the checkout, else /work/shared/data. Missing data fails the test rather than skipping it.
 */
export function sharedDataDir(): string {
  const candidates = [process.env.TESSERA_SHARED_DATA, join(REPO, '..', 'shared', 'data'), '/work/shared/data'].filter((c): c is string => !!c);
  const found = candidates.find((c) => existsSync(join(c, 'faces-lfw-dev')));
  if (!found) throw new Error(`shared face data not found (looked in ${candidates.join(', ')}); set TESSERA_SHARED_DATA`);
  return found;
}

/** The first `count` images of each of the first `identities` people (sorted, so stable). */
export async function identityImages(dataset: string, identities: number, count: number): Promise<Array<{ identity: string; files: string[] }>> {
  const root = join(sharedDataDir(), dataset);
  const people = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const out: Array<{ identity: string; files: string[] }> = [];
  for (const identity of people) {
    const files = (await readdir(join(root, identity))).filter((f) => /\.(jpe?g|png|pgm)$/i.test(f)).sort().slice(0, count);
    if (files.length === count) out.push({ identity, files: files.map((f) => join(root, identity, f)) });
    if (out.length === identities) break;
  }
  return out;
}

export function assertModelsBuilt(): void {
  for (const file of Object.values(MODEL_FILES)) {
    if (!existsSync(join(MODELS_DIR, file))) throw new Error(`models/${file} missing: run npm run models:build`);
  }
}

let pipeline: Promise<FacePipeline> | undefined;

/** One pipeline per test process, as the server keeps one. */
export function sharedPipeline(): Promise<FacePipeline> {
  assertModelsBuilt();
  pipeline ??= FacePipeline.create(MODELS_DIR);
  return pipeline;
}

/**
 * LFW news photos are re-imaged pictures (printed, scanned, compressed), and the PAD model rightly
 * refuses about half the bursts built from them (models/face-pad.md). Suites that test the other
 * checks (movement, replay, matching) with LFW bursts switch PAD off with this, explicitly; PAD
 * itself is tested at its default threshold on NUAA frames (face-pad tests).
 */
export const PAD_OFF_FOR_LFW_BURSTS = { TESSERA_FACE_PAD_THRESHOLD: '0' } as const;

export const NUAA = 'pad-nuaa-train';

/**
 * `count` consecutive frames of one NUAA capture (same person, glasses, position and session): the
 * first capture of `person` in `session` whose first `count` frames the pipeline accepts as burst
 * frames. A burst as a webcam would send it. `kind` is bona-fide or print.
 */
export async function nuaaBurst(pipeline: FacePipeline, kind: 'bona-fide' | 'print', person: string, session: string, count = 5): Promise<Buffer[]> {
  const dir = join(sharedDataDir(), NUAA, kind === 'print' ? 'attack/print' : kind, person);
  const names = (await readdir(dir)).filter((f) => f.split('_')[3] === session).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const clips = new Map<string, string[]>();
  for (const f of names) {
    const clip = f.split('_').slice(0, 4).join('_');
    clips.set(clip, [...(clips.get(clip) ?? []), f]);
  }
  const usable = (frame: Buffer) => pipeline.analyse(frame, BURST_QUALITY).then(() => true, () => false);
  for (const clip of clips.values()) {
    const frames = await Promise.all(clip.slice(0, count).map((f) => readFile(join(dir, f))));
    if (frames.length === count && (await Promise.all(frames.map(usable))).every(Boolean)) return frames;
  }
  throw new Error(`no NUAA ${kind} capture of ${person} in session ${session} with ${count} usable frames`);
}
