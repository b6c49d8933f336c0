/**
 * Chimeric users for the fusion evaluation: no data set here holds the face and the brain signal of
 * the same people, so each EEG person is paired with face identities of LFW (seeded draw). The two
 * matchers' scores are then independent given who is who, which is the assumption fusion by summed
 * LLRs makes anyway: chimeric users test the arithmetic of fusion, not the independence.
 */
import { score } from '../../src/biometrics/neural/embedder.js';
import type { FaceSample } from '../face-dataset.js';
import type { SubjectEmbeddings } from '../neural/protocol.js';
import { shuffled } from '../neural/recipe.js';
import type { HeldOutFold } from './eeg-out-of-fold.js';
import { faceScore } from './face-scores.js';

export interface ChimericUser {
  /** The EEG fold of the user's EEG person: EEG scores are out of sample only within a fold. */
  readonly fold: number;
  readonly eeg: SubjectEmbeddings;
  readonly face: {
    readonly identity: string;
    /** The first acquired photo (by name) is enrolled; the others are the user's probes. */
    readonly enrolled: FaceSample;
    readonly probes: readonly FaceSample[];
    /** Every acquired photo: what this user presents when attacking another account. */
    readonly photos: readonly FaceSample[];
  };
}

/**
 * `facesPerSubject` users per EEG person, each with its own face identity (at least two acquired
 * photos, drawn in seeded order, never reused): user j takes EEG person j mod n.
 */
export function chimericUsers(folds: readonly HeldOutFold[], faces: readonly FaceSample[], facesPerSubject: number, random: () => number): ChimericUser[] {
  const people = folds.flatMap((f) => f.people.map((eeg) => ({ fold: f.index, eeg }))).sort((x, y) => x.eeg.id.localeCompare(y.eeg.id));
  const photosByIdentity = new Map<string, FaceSample[]>();
  for (const s of faces) if (s.embedding) photosByIdentity.set(s.identity, [...(photosByIdentity.get(s.identity) ?? []), s]);
  const eligible = [...photosByIdentity.keys()].filter((identity) => photosByIdentity.get(identity)!.length >= 2).sort();
  const needed = people.length * facesPerSubject;
  if (eligible.length < needed) throw new Error(`${needed} chimeric users need as many face identities with ≥ 2 acquired photos; the face folder has ${eligible.length}`);
  return shuffled(eligible, random)
    .slice(0, needed)
    .map((identity, j) => {
      const [enrolled, ...probes] = photosByIdentity.get(identity)!;
      return { ...people[j % people.length]!, face: { identity, enrolled: enrolled!, probes, photos: [enrolled!, ...probes] } };
    });
}

export type Condition = 'crossCondition' | 'sameCondition';

export interface Trial {
  readonly face: number;
  readonly eeg: number;
  readonly fold: number;
}

/**
 * Genuine: every face probe × every EEG probe (of `condition`) of a user, against that user.
 * Impostor: another user attacks with their own face and brain, both from the SAME attacker: every
 * acquired photo × every EEG probe of the attacker, against the claimed user's two templates. The
 * attacker never shares the claimed user's EEG person (nor face: identities are never reused) and
 * comes from the same EEG fold, so the projection scoring the EEG pair saw neither person.
 */
export function chimericTrials(users: readonly ChimericUser[], condition: Condition): { genuine: Trial[]; impostor: Trial[]; distinctImpostorScores: { face: number; eeg: number } } {
  const genuine: Trial[] = [];
  const impostor: Trial[] = [];
  // Combinations multiply trials, not evidence about each matcher's own tail: count what is distinct.
  let faceScores = 0;
  const eegPairs = new Map<string, number>();
  for (const claimed of users) {
    const trialsOf = (faceProbes: readonly FaceSample[], eegProbes: readonly Float32Array[], into: Trial[]): void => {
      const eegScores = eegProbes.map((p) => score(claimed.eeg.template, p));
      for (const photo of faceProbes) {
        const face = faceScore(claimed.face.enrolled, photo);
        for (const eeg of eegScores) into.push({ face, eeg, fold: claimed.fold });
      }
    };
    trialsOf(claimed.face.probes, claimed.eeg[condition], genuine);
    for (const attacker of users) {
      if (attacker.fold !== claimed.fold || attacker.eeg.id === claimed.eeg.id) continue;
      trialsOf(attacker.face.photos, attacker.eeg[condition], impostor);
      faceScores += attacker.face.photos.length;
      eegPairs.set(`${claimed.eeg.id} ${attacker.eeg.id}`, attacker.eeg[condition].length);
    }
  }
  return { genuine, impostor, distinctImpostorScores: { face: faceScores, eeg: [...eegPairs.values()].reduce((a, b) => a + b, 0) } };
}
