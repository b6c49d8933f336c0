import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The same code runs from src/ (tsx, tests) and dist/src/ (build): find the project root
// by its package.json instead of counting directories.
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot locate the Tessera installation (no package.json above src/)');
    dir = parent;
  }
  return dir;
}

export const PROJECT_ROOT = findRoot();
export const VIEWS_DIR = join(PROJECT_ROOT, 'views');
export const MODELS_DIR = join(PROJECT_ROOT, 'models');

/** A file inside an installed package, found from the package's entry point (its exports may hide the rest). */
export function packageFile(name: string, path: string): string {
  let dir = dirname(createRequire(import.meta.url).resolve(name));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, path))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find ${path} in the installed package ${name}`);
    dir = parent;
  }
  return join(dir, path);
}
