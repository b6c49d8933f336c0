// A presentation-attack data folder: bona-fide/<person>/… and attack/<species>/<person>/…, each
// person's folder holding images or folders of frames (one folder = one presentation).
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';

export const BONA_FIDE = 'bona-fide';

export interface PadSample {
  readonly path: string;
  /** 'bona-fide', or the attack species (print, screen, replay, mask…: whatever folders exist). */
  readonly kind: string;
  readonly person: string;
  /** The image or frame folder this frame belongs to. */
  readonly presentation: string;
  /** NUAA names its files ID_glasses_position_session_picture; undefined for other layouts. */
  readonly session: string | undefined;
  /** One capture sequence (NUAA: person, glasses, position, session; else the presentation), frames in capture order. */
  readonly clip: string;
}

const IMAGE = /\.(jpe?g|png|webp)$/i;
const NUAA_NAME = /^(\d{4}_\d{2}_\d{2}_(\d{2}))_\d+\.jpg$/i;

async function subfolders(dir: string): Promise<string[]> {
  return (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
}

/** Every image under `dir`, descending into frame folders; sorted so runs are reproducible. */
async function images(dir: string): Promise<Array<{ path: string; presentation: string }>> {
  const out: Array<{ path: string; presentation: string }> = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await images(path)).map((f) => ({ path: f.path, presentation: path })));
    else if (IMAGE.test(entry.name)) out.push({ path, presentation: path });
  }
  return out;
}

async function personSamples(root: string, dir: string, kind: string): Promise<PadSample[]> {
  const out: PadSample[] = [];
  for (const person of await subfolders(dir)) {
    for (const image of await images(join(dir, person))) {
      const name = image.path.slice(image.path.lastIndexOf('/') + 1);
      const nuaa = NUAA_NAME.exec(name);
      const presentation = relative(root, image.presentation);
      out.push({ path: image.path, kind, person, presentation, session: nuaa?.[2], clip: nuaa ? `${kind}/${nuaa[1]}` : presentation });
    }
  }
  return out;
}

export async function readPadDataset(root: string): Promise<PadSample[]> {
  const top = await subfolders(root);
  if (!top.includes(BONA_FIDE) || !top.includes('attack')) throw new Error(`${root}: expected bona-fide/ and attack/ folders`);
  const samples = await personSamples(root, join(root, BONA_FIDE), BONA_FIDE);
  for (const species of await subfolders(join(root, 'attack'))) samples.push(...(await personSamples(root, join(root, 'attack', species), species)));
  return samples;
}

export const isAttack = (s: { readonly kind: string }) => s.kind !== BONA_FIDE;
