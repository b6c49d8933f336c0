// WebAuthn challenges: random, bound to the page they were issued for (a sign-in, a console set-up),
// valid for a while, usable once. Kept in the short-lived record store, so every process knows them.
import { createHash, randomBytes } from 'node:crypto';
import type { RecordStore } from '../../oidc/stores/record-store.js';

export type ChallengeRefusal = 'challenge_invalid' | 'challenge_expired' | 'challenge_reused';

const MODEL = 'PasskeyChallenge';
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
// Records outlive their validity a little, so that a late answer is told "expired", not "unknown".
const GRACE_SECONDS = 60;

// The binding is stored as a digest: the record needs to match it, not to know it.
const digest = (binding: string) => createHash('sha256').update(binding).digest('base64url');

export class PasskeyChallenges {
  constructor(
    private readonly store: RecordStore,
    readonly seconds: number,
  ) {}

  /** A new challenge (base64url of 32 random bytes, as WebAuthn options carry it) for `binding`. */
  async issue(binding: string): Promise<string> {
    const challenge = randomBytes(32).toString('base64url');
    await this.store.upsert(MODEL, challenge, { binding: digest(binding), issuedAt: Date.now() }, this.seconds + GRACE_SECONDS);
    return challenge;
  }

  /** Uses up the challenge a response answers; another page's, an old one or a second use is refused. */
  async redeem(challenge: string, binding: string): Promise<ChallengeRefusal | undefined> {
    if (!CHALLENGE.test(challenge)) return 'challenge_invalid';
    const record = await this.store.find(MODEL, challenge);
    if (!record || record.binding !== digest(binding)) return 'challenge_invalid';
    if (record.consumed) return 'challenge_reused';
    if (Date.now() - Number(record.issuedAt) > this.seconds * 1000) return 'challenge_expired';
    return (await this.store.consume(MODEL, challenge)) ? undefined : 'challenge_reused';
  }
}
