// Per-attempt liveness challenges: a random sequence of head movements, sealed (the browser cannot
// pick or alter one) with its nonce and issue time, bound to the sign-in it was issued for, valid
// for a time window, usable once.
import { randomBytes, randomInt } from 'node:crypto';
import type { RecordStore } from '../../oidc/stores/record-store.js';
import { SealedBox, SealedBoxError } from '../../security/sealed-box.js';

export const CHALLENGE_KINDS = ['turn_left', 'turn_right', 'look_up', 'look_down'] as const;
export type ChallengeKind = (typeof CHALLENGE_KINDS)[number];
// Movements per challenge unless configured (TESSERA_FACE_CHALLENGE_MOVES).
export const DEFAULT_CHALLENGE_MOVES = 2;

/** One movement, in words (the page's guide and error messages). */
export const MOVE_TEXT: Record<ChallengeKind, string> = {
  turn_left: 'turn your head to your left',
  turn_right: 'turn your head to your right',
  look_up: 'tilt your head up',
  look_down: 'tilt your head down',
};

/** The whole challenge in words: "Look at the camera, then slowly turn your head to your left, then …". */
export const instructionFor = (moves: readonly ChallengeKind[]) => `Look at the camera, then slowly ${moves.map((m) => MOVE_TEXT[m]).join(', then ')}`;

export interface Challenge {
  readonly nonce: string;
  /** The movements to perform, in this order; consecutive ones differ. */
  readonly moves: readonly ChallengeKind[];
  /** Server time (epoch ms) the challenge was issued: the burst cannot have been captured before it. */
  readonly issuedAt: number;
}

export type Redeemed = { ok: true; challenge: Challenge } | { ok: false; reason: 'challenge_invalid' | 'challenge_expired' | 'challenge_reused' };

// Store model name for issued challenges; redeeming consumes the record, so a token works once.
const MODEL = 'FaceChallenge';

export class Challenges {
  constructor(
    private readonly box: SealedBox,
    private readonly store: RecordStore,
    private readonly kinds: readonly ChallengeKind[],
    private readonly length: number,
    readonly windowSeconds: number,
  ) {
    if (kinds.length === 0) throw new Error('no face challenges allowed');
    if (length < 1 || (length > 1 && kinds.length < 2)) throw new Error('a sequence of face challenges needs at least two movements to choose from');
  }

  /** A new random challenge for `binding` (the sign-in or enrollment it belongs to) and its sealed token. */
  async issue(binding: string): Promise<{ moves: ChallengeKind[]; token: string }> {
    const moves: ChallengeKind[] = [];
    while (moves.length < this.length) {
      // A repeat would be one long movement, not two.
      const choices = this.kinds.filter((k) => k !== moves.at(-1));
      moves.push(choices[randomInt(choices.length)]!);
    }
    const challenge: Challenge = { nonce: randomBytes(16).toString('base64url'), moves, issuedAt: Date.now() };
    await this.store.upsert(MODEL, challenge.nonce, {}, this.windowSeconds);
    return { moves, token: this.box.seal(JSON.stringify(challenge), binding) };
  }

  /** Opens a token for `binding` and uses it up: another sign-in's token, an old one or a second use fail. */
  async redeem(token: string, binding: string): Promise<Redeemed> {
    let challenge: Challenge;
    try {
      challenge = JSON.parse(this.box.open(token, binding).toString('utf8')) as Challenge;
    } catch (error) {
      if (error instanceof SealedBoxError || error instanceof SyntaxError) return { ok: false, reason: 'challenge_invalid' };
      throw error;
    }
    if (Date.now() - challenge.issuedAt > this.windowSeconds * 1000) return { ok: false, reason: 'challenge_expired' };
    if (!(await this.store.consume(MODEL, challenge.nonce))) return { ok: false, reason: 'challenge_reused' };
    return { ok: true, challenge };
  }
}
