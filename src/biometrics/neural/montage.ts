import { NeuralInputError } from './errors.js';
import type { Recording } from './recording.js';

/**
 * 10-20 / 10-10 electrode names. Canonical spelling follows the classic 10-20 names used by
 * the training data (T3/T4/T5/T6); the modern 10-10 synonyms map onto them.
 */
const ELECTRODES = [
  'Fp1', 'Fpz', 'Fp2', 'AF7', 'AF3', 'AFz', 'AF4', 'AF8', 'F9', 'F7', 'F5', 'F3', 'F1', 'Fz', 'F2', 'F4',
  'F6', 'F8', 'F10', 'FT9', 'FT7', 'FC5', 'FC3', 'FC1', 'FCz', 'FC2', 'FC4', 'FC6', 'FT8', 'FT10', 'T9',
  'T3', 'C5', 'C3', 'C1', 'Cz', 'C2', 'C4', 'C6', 'T4', 'T10', 'TP9', 'TP7', 'CP5', 'CP3', 'CP1', 'CPz',
  'CP2', 'CP4', 'CP6', 'TP8', 'TP10', 'P9', 'T5', 'P5', 'P3', 'P1', 'Pz', 'P2', 'P4', 'P6', 'T6', 'P10',
  'PO7', 'PO3', 'POz', 'PO4', 'PO8', 'O1', 'Oz', 'O2', 'Iz', 'A1', 'A2',
] as const;

const SYNONYMS: Record<string, string> = { T7: 'T3', T8: 'T4', P7: 'T5', P8: 'T6' };

const BY_UPPER = new Map<string, string>(ELECTRODES.map((e) => [e.toUpperCase(), e]));
for (const [modern, classic] of Object.entries(SYNONYMS)) BY_UPPER.set(modern.toUpperCase(), classic);

/** Reference suffixes recorders append to a referential derivation ("EEG Fp1-REF", "C3-LE"). */
const REFERENCE_SUFFIX = /-(REF|LE|RE|AR|AVG|CAR|LINKED|M1M2|A1A2|A1\+A2|M1\+M2)$/i;

/**
 * Canonical electrode name for a channel label, or null when the label is not a single
 * scalp/ear electrode (ECG, annotations, bipolar derivations such as "A2-A1").
 */
export function electrodeName(label: string): string | null {
  let name = label.trim().replace(/^EEG\s+/i, '').replace(/\.+$/, '').trim();
  name = name.replace(REFERENCE_SUFFIX, '');
  return BY_UPPER.get(name.toUpperCase()) ?? null;
}

/** An ordered electrode subset a model is trained for. */
export interface Montage {
  name: string;
  electrodes: readonly string[];
}

export const montages = {
  /** The 19 scalp electrodes of a clinical 10-20 cap (the training data's layout). */
  clinical19: {
    name: 'clinical19',
    electrodes: ['Fp1', 'Fp2', 'F3', 'F4', 'F7', 'F8', 'T3', 'T4', 'C3', 'C4', 'T5', 'T6', 'P3', 'P4', 'O1', 'O2', 'Fz', 'Cz', 'Pz'],
  },
  /** 8-channel consumer/research boards (OpenBCI Cyton default placement; P7/P8 = T5/T6). */
  consumer8: {
    name: 'consumer8',
    electrodes: ['Fp1', 'Fp2', 'C3', 'C4', 'T5', 'T6', 'O1', 'O2'],
  },
} as const satisfies Record<string, Montage>;

export type MontageName = keyof typeof montages;

export function montageByName(name: string): Montage {
  const montage = (montages as Record<string, Montage>)[name];
  if (montage === undefined) {
    throw new Error(`unknown montage "${name}"; known: ${Object.keys(montages).join(', ')}`);
  }
  return montage;
}

/**
 * For each electrode of the montage, in the montage's order, the index of the label naming it.
 * Labels outside the montage are ignored; a missing or duplicated electrode is an error naming it.
 */
export function montageIndices(labels: readonly string[], montage: Montage): number[] {
  const found = new Map<string, number>();
  labels.forEach((label, i) => {
    const name = electrodeName(label);
    if (name === null || !montage.electrodes.includes(name)) return;
    const previous = found.get(name);
    if (previous !== undefined) {
      throw new NeuralInputError('channels_ambiguous', `electrode ${name} appears twice (labels "${labels[previous]}" and "${label}")`);
    }
    found.set(name, i);
  });
  const missing = montage.electrodes.filter((e) => !found.has(e));
  if (missing.length > 0) {
    throw new NeuralInputError(
      'channels_missing',
      `recording lacks ${missing.length} of the ${montage.electrodes.length} ${montage.name} electrodes: ${missing.join(', ')}`,
      missing.map((channel) => ({ code: 'channels_missing' as const, message: `electrode ${channel} is missing`, channel })),
    );
  }
  return montage.electrodes.map((e) => found.get(e) as number);
}

/** The montage's channels, in the montage's order, relabelled canonically (see montageIndices). */
export function selectMontage(recording: Recording, montage: Montage): Recording {
  const indices = montageIndices(
    recording.channels.map((c) => c.label),
    montage,
  );
  return {
    sampleRate: recording.sampleRate,
    channels: montage.electrodes.map((e, k) => ({ label: e, samples: (recording.channels[indices[k] as number] as Recording['channels'][number]).samples })),
  };
}
