// A folder of face photos, one sub-folder per identity, through the face pipeline: listing,
// embedding, and every pair's distance. Shared by eval:face, models:calibrate and eval:fusion.
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { isFaceError } from '../src/biometrics/face/index.js';
import { ScoreSet } from '../src/biometrics/face/evaluation.js';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.pgm', '.ppm']);

export interface FaceImage {
  readonly identity: string;
  readonly file: string;
}

export interface FaceSample extends FaceImage {
  readonly embedding?: Float32Array;
  /** The pipeline's refusal reason when no face could be acquired. */
  readonly failure?: string;
}

/** Identity folders and their images, both sorted by name so every run sees the same order. */
export async function listIdentityImages(root: string): Promise<{ identities: string[]; files: FaceImage[] }> {
  // stat, not the dirent type, so symlinked identity folders count too.
  const identities: string[] = [];
  for (const name of (await readdir(root)).sort()) if ((await stat(join(root, name))).isDirectory()) identities.push(name);
  const files: FaceImage[] = [];
  for (const identity of identities) {
    const names = (await readdir(join(root, identity))).filter((n) => IMAGE_EXTENSIONS.has(extname(n).toLowerCase())).sort();
    for (const name of names) files.push({ identity, file: join(root, identity, name) });
  }
  if (files.length === 0) throw new Error(`no images under ${root}`);
  return { identities, files };
}

/**
 * Embeds every image with `analyse` (the pipeline, possibly timed by the caller); an image the
 * pipeline refuses is kept with its reason and counted, any other error stops the run.
 */
export async function embedImages(
  files: readonly FaceImage[],
  analyse: (bytes: Buffer, image: FaceImage) => Promise<Float32Array>,
  progress: (line: string) => void,
): Promise<{ samples: FaceSample[]; failures: Record<string, number> }> {
  const samples: FaceSample[] = [];
  const failures: Record<string, number> = {};
  for (const [i, image] of files.entries()) {
    try {
      samples.push({ ...image, embedding: await analyse(await readFile(image.file), image) });
    } catch (error) {
      if (!isFaceError(error)) throw error;
      failures[error.reason] = (failures[error.reason] ?? 0) + 1;
      progress(`not acquired (${error.reason}): ${image.file}`);
      samples.push({ ...image, failure: error.reason });
    }
    if ((i + 1) % 100 === 0 || i + 1 === files.length) progress(`analysed ${i + 1}/${files.length}`);
  }
  return { samples, failures };
}

/** All genuine (same folder) and impostor (different folders) pairs; failed images score +Infinity. */
export function pairScores(samples: readonly FaceSample[], acquiredOnly: boolean, distance: (a: FaceSample, b: FaceSample) => number): ScoreSet {
  const genuine: number[] = [];
  const impostor: number[] = [];
  const usable = acquiredOnly ? samples.filter((s) => s.embedding) : samples;
  for (let i = 0; i < usable.length; i++) {
    for (let j = i + 1; j < usable.length; j++) {
      const a = usable[i]!;
      const b = usable[j]!;
      const d = a.embedding && b.embedding ? distance(a, b) : Infinity;
      (a.identity === b.identity ? genuine : impostor).push(d);
    }
  }
  return new ScoreSet(genuine, impostor);
}
