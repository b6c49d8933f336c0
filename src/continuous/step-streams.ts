import type { Account } from '../accounts/accounts.js';
import type { ContinuousPolicy } from './continuous-policy.js';
import type { ContinuousVerifier } from './continuous-verifier.js';
import type { Refusal } from './stream-protocol.js';

/**
 * What a step offers when it can keep verifying the person after sign-in from a stream its
 * capture device sends (continuous authentication): one verifier per stream, against the
 * account's template. The transport knows nothing more about the step.
 */
export interface StepStreams {
  /** Verification of one stream for the account, opened by its first message; or the refusal to close the stream with. */
  open(account: Account, options: { hello: string; policy: ContinuousPolicy; initialLlr: number }): Promise<ContinuousVerifier | Refusal>;
  /** Releases the models the streams used (shutdown). */
  close(): Promise<void>;
}
