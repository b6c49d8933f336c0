/**
 * The training recipe, shared by models:train-neural (which ships a model) and eval:neural-cv
 * (which measures the recipe on people it never trained on): features, the settings grid, the
 * rule that picks settings and the threshold calibration.
 */
import type { FeatureConfig } from '../../src/biometrics/neural/features.js';
import type { Montage, MontageName } from '../../src/biometrics/neural/montage.js';
import type { SignalConfig } from '../../src/biometrics/neural/preprocess.js';
import type { SubjectFeatures } from './features-cache.js';
import { offlineTrials, summarise, type OfflineResult } from './offline-eval.js';
import { projectionFitter, type ProjectionOptions } from './projection.js';
import { protocol } from './protocol.js';

const PCA_SIZES = [64, 128, 192, 256, 320, 384, 512];
const SHRINKAGES = [0, 0.1, 0.3];

/** Standard normal quantile for a 0.1% upper tail. */
const TARGET_FAR_Z = 3.09;

export interface Recipe {
  features: FeatureConfig;
  /** PCA sizes the grid tries, ascending; each is capped at the feature length. */
  pcaSizes: readonly number[];
}

const band = (name: string, lowHz: number, highHz: number) => ({ name, lowHz, highHz });

/**
 * Per montage. clinical19: coherence in three bands (171 pairs carry enough) and the 3–35 Hz
 * spectrum. consumer8: 28 pairs carry little in three wide bands, so coherence in nine narrow ones
 * (theta to gamma) and the spectrum over the whole 1–40 Hz pass band, and every principal axis may
 * be kept (measured against the three-band recipe in models/neural.md).
 */
export const recipes: Record<MontageName, Recipe> = {
  clinical19: {
    features: {
      segmentSeconds: 2,
      bands: [band('alpha', 8, 13), band('beta-low', 13, 20), band('beta-high', 20, 30)],
      spectrum: { segmentSeconds: 1, lowHz: 3, highHz: 35 },
    },
    pcaSizes: PCA_SIZES,
  },
  consumer8: {
    features: {
      segmentSeconds: 2,
      bands: [band('theta-low', 4, 6), band('theta-high', 6, 8), band('alpha-low', 8, 10), band('alpha-high', 10, 12), band('beta-1', 12, 15), band('beta-2', 15, 20), band('beta-3', 20, 25), band('beta-4', 25, 30), band('gamma', 30, 40)],
      spectrum: { segmentSeconds: 1, lowHz: 1, highHz: 40 },
    },
    pcaSizes: [...PCA_SIZES, 1024],
  },
};

export function recipeFor(montage: Montage): Recipe {
  const recipe = (recipes as Record<string, Recipe>)[montage.name];
  if (!recipe) throw new Error(`no training recipe for montage ${montage.name}`);
  return recipe;
}

/** The settings the recipe chooses among, in ascending model size. */
export function settingsGrid(recipe: Recipe, featureCount: number): ProjectionOptions[] {
  const sizes = [...new Set(recipe.pcaSizes.map((k) => Math.min(k, featureCount)))];
  return sizes.flatMap((pcaDims) => SHRINKAGES.map((shrinkage) => ({ pcaDims, shrinkage })));
}

export function signalConfig(montage: Montage): SignalConfig {
  return { montage, analysisRate: 128, highpassHz: 1, lowpassHz: 40, windowSeconds: protocol.windowSeconds };
}

/** Every window of each person, resting and task alike, labelled with the person. */
export function trainingWindows(subjects: readonly SubjectFeatures[]): [Float32Array[], string[]] {
  const samples: Float32Array[] = [];
  const labels: string[] = [];
  for (const s of subjects) {
    for (const f of [...s.rest.byStart.values(), ...s.task.byStart.values()]) {
      samples.push(f);
      labels.push(s.id);
    }
  }
  return [samples, labels];
}

/**
 * Candidates in grid order (ascending size): a larger model must beat the best so far by 1% of d'
 * to be preferred, so noise on a handful of people does not buy size.
 */
export function selectSettings(candidates: readonly { options: ProjectionOptions; separation: number }[]): ProjectionOptions {
  let best: { options: ProjectionOptions; separation: number } | undefined;
  for (const c of candidates) if (best === undefined || c.separation > best.separation * 1.01) best = c;
  if (best === undefined) throw new Error('empty hyper-parameter grid');
  return best.options;
}

/**
 * Where a normal fit to the impostor scores (both conditions pooled) puts the false-accept rate
 * at 0.1%: a few hundred impostor trials cannot show 0.1% empirically, and the empirical
 * FAR ≤ 1% point sits right on the highest impostor score.
 */
export function calibratedThreshold(result: OfflineResult): number {
  const impostor = [...result.cross.impostor, ...result.same.impostor];
  const mean = impostor.reduce((a, b) => a + b, 0) / impostor.length;
  const sd = Math.sqrt(impostor.reduce((a, b) => a + (b - mean) ** 2, 0) / impostor.length);
  return mean + TARGET_FAR_Z * sd;
}

/** A copy of `items` in Fisher–Yates order from the seeded generator. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const order = [...items];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] as T, order[i] as T];
  }
  return order;
}

/** Shuffled, then dealt round-robin into `k` groups. */
export function shuffledFolds<T>(items: readonly T[], k: number, random: () => number): T[][] {
  const order = shuffled(items, random);
  return Array.from({ length: k }, (_, f) => order.filter((_, i) => i % k === f));
}

export const emptyResult = (): OfflineResult => ({ cross: { genuine: [], impostor: [] }, same: { genuine: [], impostor: [] } });

export function append(into: OfflineResult, from: OfflineResult): void {
  for (const condition of ['cross', 'same'] as const) {
    into[condition].genuine.push(...from[condition].genuine);
    into[condition].impostor.push(...from[condition].impostor);
  }
}

/**
 * Settings and threshold from `people` alone: subject-disjoint folds over them, every grid setting
 * scored on each held-out group, trials pooled over the groups; the rule of `selectSettings` picks
 * the setting and `calibratedThreshold` its threshold from those out-of-fold scores.
 */
export function chooseSettings(recipe: Recipe, train: readonly SubjectFeatures[], innerFolds: number, random: () => number): { options: ProjectionOptions; threshold: number } {
  const groups = shuffledFolds(train, innerFolds, random);
  const byOption = new Map<string, { options: ProjectionOptions; result: OfflineResult }>();
  for (const test of groups) {
    const fit = projectionFitter(...trainingWindows(train.filter((s) => !test.includes(s))));
    for (const options of settingsGrid(recipe, train[0]?.rest.byStart.values().next().value?.length ?? 0)) {
      const key = `${options.pcaDims}/${options.shrinkage}`;
      const entry = byOption.get(key) ?? { options, result: emptyResult() };
      append(entry.result, offlineTrials(test, fit(options)));
      byOption.set(key, entry);
    }
  }
  const chosen = selectSettings([...byOption.values()].map(({ options, result }) => ({ options, separation: summarise(result).separation })));
  const result = byOption.get(`${chosen.pcaDims}/${chosen.shrinkage}`)?.result ?? emptyResult();
  return { options: chosen, threshold: calibratedThreshold(result) };
}

