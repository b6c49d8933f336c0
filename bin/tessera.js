#!/usr/bin/env node
// The CLI runs from the compiled build (npm install builds it; `npm run build` refreshes it).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('tessera: the build is missing; run `npm install` or `npm run build` first');
  process.exit(1);
}
await import(entry.href);
