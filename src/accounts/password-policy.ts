import type { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { MAX_PASSWORD_LENGTH } from './accounts.js';
import type { BreachedPasswords } from './breached-passwords.js';
import { InputError } from './input-error.js';

export interface PasswordPolicySettings {
  minLength: number;
  // zxcvbn's 0–4 guessability score a new password must reach.
  minScore: number;
  breachCheck: boolean;
}

/** Who the password is for: zxcvbn counts these words (and their parts) as easy to guess. */
export interface PasswordOwner {
  username: string;
  email?: string;
  name?: string;
}

export type RefusalReason = 'too_short' | 'too_long' | 'breached' | 'weak';

export class PasswordRefused extends InputError {
  override name = 'PasswordRefused';
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(message);
  }
}

// The dictionaries take a quarter of a second to load: only processes that check a password pay it.
let estimator: Promise<ZxcvbnFactory> | undefined;
function strengthEstimator(): Promise<ZxcvbnFactory> {
  estimator ??= (async () => {
    const [{ ZxcvbnFactory }, common, en] = await Promise.all([import('@zxcvbn-ts/core'), import('@zxcvbn-ts/language-common'), import('@zxcvbn-ts/language-en')]);
    return new ZxcvbnFactory({ dictionary: { ...common.dictionary, ...en.dictionary }, graphs: common.adjacencyGraphs, translations: en.translations });
  })();
  return estimator;
}

const ownerWords = (owner: PasswordOwner) =>
  [owner.username, owner.email, owner.email?.split('@')[0], owner.name, ...(owner.name?.split(/\s+/) ?? [])].filter((w): w is string => Boolean(w));

/**
 * The rules for a password a person chooses (admin API, CLI, account console): long enough, not in
 * the leaked-password list, hard enough to guess. Accounts seeded through the service layer and
 * imported hashes are not checked here.
 */
export class PasswordPolicy {
  constructor(
    readonly settings: PasswordPolicySettings,
    // Undefined when the filter file is missing (a warning was logged at start).
    private readonly breached: BreachedPasswords | undefined,
  ) {}

  /** Throws PasswordRefused with a message for the person choosing it. */
  async check(password: string, owner: PasswordOwner): Promise<void> {
    const { minLength, minScore, breachCheck } = this.settings;
    if (password.length < minLength) throw new PasswordRefused('too_short', `The password must be at least ${minLength} characters long.`);
    if (password.length > MAX_PASSWORD_LENGTH) throw new PasswordRefused('too_long', `The password must be at most ${MAX_PASSWORD_LENGTH} characters long.`);
    if (breachCheck && this.breached?.includes(password)) {
      throw new PasswordRefused('breached', 'This password appears in lists of leaked passwords, so attackers try it first. Choose another one.');
    }
    const { score, feedback } = (await strengthEstimator()).check(password, ownerWords(owner));
    if (score < minScore) {
      const advice = [feedback.warning, ...feedback.suggestions].filter(Boolean).join(' ') || 'Add more words that are less common.';
      throw new PasswordRefused('weak', `Too easy to guess: ${advice}`);
    }
  }
}
