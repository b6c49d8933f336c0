import type { RateCounter } from './rate-counter.js';

export interface ThrottlePolicy {
  maxFailuresPerAccount: number;
  maxFailuresPerIp: number;
  windowSeconds: number;
  lockoutSeconds: number;
}

export class LockedOut extends Error {
  override name = 'LockedOut';
  constructor(
    public readonly scope: 'account' | 'ip',
    public readonly retryAfterSeconds: number,
  ) {
    super(`too many failed attempts from this ${scope === 'account' ? 'account' : 'network address'}`);
  }
}

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

  /** Throws LockedOut if either the account or the IP is locked. */
  async check(account: string, ip: string): Promise<void> {
    const k = this.keys(account, ip);
    const [a, i] = await Promise.all([this.counter.peek(`lock:${k.account}`), this.counter.peek(`lock:${k.ip}`)]);
    const now = Date.now();
    if (a.count > 0) throw new LockedOut('account', Math.ceil((a.resetAt - now) / 1000));
    if (i.count > 0) throw new LockedOut('ip', Math.ceil((i.resetAt - now) / 1000));
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
