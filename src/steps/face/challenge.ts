// Per-attempt liveness challenges: chosen at random, sealed (the browser cannot pick or alter
// one), bound to the sign-in they were issued for, valid for a time window, usable once.
import { randomBytes, randomInt } from 'node:crypto';
import type { RecordStore } from '../../oidc/stores/record-store.js';
import { SealedBox, SealedBoxError } from '../../security/sealed-box.js';

export const CHALLENGE_KINDS = ['turn_left', 'turn_right', 'look_up', 'look_down'] as const;
export type ChallengeKind = (typeof CHALLENGE_KINDS)[number];

/** What the user is asked to do, in words (the page and error messages). */
export const CHALLENGE_TEXT: Record<ChallengeKind, string> = {
  turn_left: 'Look at the camera, then slowly turn your head to your left',
  turn_right: 'Look at the camera, then slowly turn your head to your right',
  look_up: 'Look at the camera, then slowly tilt your head up',
  look_down: 'Look at the camera, then slowly tilt your head down',
};

export interface Challenge {
  readonly nonce: string;
  readonly kind: ChallengeKind;
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
    private readonly windowSeconds: number,
  ) {
    if (kinds.length === 0) throw new Error('no face challenges allowed');
  }

  /** A new random challenge for `binding` (the sign-in or enrollment it belongs to) and its sealed token. */
  async issue(binding: string): Promise<{ kind: ChallengeKind; token: string }> {
    const challenge: Challenge = { nonce: randomBytes(16).toString('base64url'), kind: this.kinds[randomInt(this.kinds.length)]!, issuedAt: Date.now() };
    await this.store.upsert(MODEL, challenge.nonce, { kind: challenge.kind }, this.windowSeconds);
    return { kind: challenge.kind, token: this.box.seal(JSON.stringify(challenge), binding) };
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
