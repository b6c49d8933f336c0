// Where a calibration came from: today's date and the repository commit it was fitted at.
import { execFileSync } from 'node:child_process';
import { repoPath } from '../neural/dataset.js';

export function fitProvenance(): { date: string; commit: string } {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repoPath(), encoding: 'utf8' }).trim();
  // Uncommitted changes are said, so a file fitted from a work in progress does not pass for the commit.
  const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
  return { date: new Date().toISOString().slice(0, 10), commit: `${git('rev-parse', '--short', 'HEAD')}${dirty ? '+dirty' : ''}` };
}
