import type { RateCounter } from './rate-counter.js';

export interface ThrottlePolicy {
  maxFailuresPerAccount: number;
  maxFailuresPerIp: number;
  windowSeconds: number;
  lockoutSeconds: number;
}

/** A lock in force: which key is locked and for how much longer. */
export interface LockedOut {
  scope: 'account' | 'ip';
  retryAfterSeconds: number;
  // The wait in whole minutes (at least one), for messages to people.
  retryAfterMinutes: number;
}

const lockedOut = (scope: LockedOut['scope'], resetAt: number): LockedOut => {
  const retryAfterSeconds = Math.ceil((resetAt - Date.now()) / 1000);
  return { scope, retryAfterSeconds, retryAfterMinutes: Math.max(1, Math.ceil(retryAfterSeconds / 60)) };
};

/**
 * Brute-force protection for any credential check (password, second factors): failures are
 * counted per account and per IP in a window; reaching the limit locks that key for a while.
 * Unknown accounts are counted like real ones so the lockout does not reveal which exist.
 */
export class CredentialThrottle {
  constructor(
    private readonly counter: RateCounter,
    private readonly policy: ThrottlePolicy,
  ) {}

  private keys(account: string, ip: string) {
    return { account: `fail:acct:${account}`, ip: `fail:ip:${ip}` };
  }

  /** The lock in force on the account or the IP, if any. */
  async check(account: string, ip: string): Promise<LockedOut | undefined> {
    const k = this.keys(account, ip);
    const [byAccount, byIp] = await this.counter.peek([`lock:${k.account}`, `lock:${k.ip}`]);
    if (byAccount && byAccount.count > 0) return lockedOut('account', byAccount.resetAt);
    if (byIp && byIp.count > 0) return lockedOut('ip', byIp.resetAt);
    return undefined;
  }

  /** Records a failure; returns which scope (if any) this failure locked. */
  async fail(account: string, ip: string): Promise<'account' | 'ip' | undefined> {
    const k = this.keys(account, ip);
    const { windowSeconds, lockoutSeconds } = this.policy;
    const [a, i] = await Promise.all([this.counter.hit(k.account, windowSeconds), this.counter.hit(k.ip, windowSeconds)]);
    if (a.count >= this.policy.maxFailuresPerAccount) {
      await Promise.all([this.counter.hit(`lock:${k.account}`, lockoutSeconds), this.counter.reset(k.account)]);
      return 'account';
    }
    if (i.count >= this.policy.maxFailuresPerIp) {
      await Promise.all([this.counter.hit(`lock:${k.ip}`, lockoutSeconds), this.counter.reset(k.ip)]);
      return 'ip';
    }
    return undefined;
  }

  async succeed(account: string): Promise<void> {
    await this.counter.reset(this.keys(account, '').account);
  }
}
