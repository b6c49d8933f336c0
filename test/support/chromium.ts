import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PROJECT_ROOT } from '../../src/paths.js';

// Debian's chromium (apt-get install -y chromium); never a downloaded browser.
const EXECUTABLE = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Screenshots land here (kept as test artefacts, gitignored). */
export const ARTEFACTS_DIR = join(PROJECT_ROOT, 'test-artefacts');

/** Launches headless Chromium; `extraArgs` e.g. for a fake camera. */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: EXECUTABLE, args: [...FLAGS, ...extraArgs] });
}

/** Saves a full-page screenshot as test-artefacts/<suite>/<nn>-<name>.png. */
export async function screenshot(page: Page, suite: string, name: string): Promise<string> {
  const dir = join(ARTEFACTS_DIR, suite);
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
