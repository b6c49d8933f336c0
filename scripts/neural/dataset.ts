import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEdf } from '../../src/biometrics/neural/edf.js';
import { edfToRecording } from '../../src/biometrics/neural/ingest.js';
import type { Recording } from '../../src/biometrics/neural/recording.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The shared EEG folder: $TESSERA_SHARED_DATA, else <repo>/../shared/data, else /work/shared/data. */
export function sharedEegDir(): string {
  const candidates = [process.env['TESSERA_SHARED_DATA'], path.join(repoRoot, '..', 'shared', 'data'), '/work/shared/data'];
  for (const base of candidates) {
    if (base === undefined || base === '') continue;
    const dir = path.join(base, 'eeg-eegmat');
    if (existsSync(dir)) return dir;
  }
  throw new Error('shared EEG data not found: set TESSERA_SHARED_DATA to the folder holding eeg-eegmat/ (tried <repo>/../shared/data and /work/shared/data)');
}

export interface SubjectFiles {
  id: string;
  rest: string;
  task: string;
}

/** Every SubjectNN with both a resting (_1) and a task (_2) EDF, sorted by id. */
export async function listSubjects(dir: string): Promise<SubjectFiles[]> {
  const names = new Set(await readdir(dir));
  const out: SubjectFiles[] = [];
  for (const name of [...names].sort()) {
    const match = /^(Subject\d+)_1\.edf$/i.exec(name);
    if (match === null) continue;
    const id = match[1] as string;
    const task = name.replace(/_1\.edf$/i, (m) => m.replace('1', '2'));
    if (names.has(task)) out.push({ id, rest: path.join(dir, name), task: path.join(dir, task) });
  }
  return out;
}

export async function loadEdf(file: string): Promise<Recording> {
  return edfToRecording(parseEdf(await readFile(file)));
}

export function repoPath(...parts: string[]): string {
  return path.join(repoRoot, ...parts);
}
