import type { Logger } from '../log.js';
import { SealedBoxError, type SealedBox } from './sealed-box.js';

/**
 * Sealing for what a replay defence remembers of an account's submissions, bound to the account.
 * Unlike a credential, such a memory may be lost: one that cannot be opened (the master key
 * changed, the row is damaged) counts as nothing remembered, with a warning naming the memory and
 * the account (never its content), rather than failing every sign-in of the account until it
 * expires. The next submission remembered is sealed with the current key.
 */
export class SealedMemory {
  constructor(
    private readonly box: SealedBox,
    private readonly log: Logger,
  ) {}

  seal(plain: Buffer, accountId: string): string {
    return this.box.seal(plain, accountId);
  }

  /** The remembered bytes, or undefined (warned about) when they cannot be opened. */
  open(sealed: string, accountId: string): Buffer | undefined {
    try {
      return this.box.open(sealed, accountId);
    } catch (err) {
      if (!(err instanceof SealedBoxError)) throw err;
      this.log.warn({ memory: this.box.purpose, subject: accountId, problem: err.message }, 'sealed replay memory cannot be opened; it counts as empty');
      return undefined;
    }
  }
}
