import type { Account } from '../accounts/accounts.js';
import type { LockedOut } from '../security/credential-throttle.js';
import type { Attempt } from './step.js';

/** The audit fields of an attempt on a known account. */
export const auditFields = (account: Account, at: Attempt) => ({ subject: account.id, ip: at.ip, userAgent: at.userAgent, clientId: at.clientId });

/** The refusal while a step's throttle holds a lock: 429 with Retry-After and the wait in words. */
export const lockedOutRefusal = (locked: LockedOut, what: string) => ({
  ok: false as const,
  status: 429,
  message: `${what} Try again in ${locked.retryAfterMinutes} minute(s).`,
  retryAfterSeconds: locked.retryAfterSeconds,
});
