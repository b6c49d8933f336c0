import { randomBytes } from 'node:crypto';
import type { Account, AccountService } from '../../accounts/accounts.js';
import { normaliseUsername } from '../../accounts/accounts.js';
import { hashPassword, verifyPassword } from '../../accounts/password-hash.js';
import type { AuditLog } from '../../security/audit-log.js';
import { CredentialThrottle, LockedOut } from '../../security/credential-throttle.js';
import type { Logger } from '../../log.js';

export const PASSWORD_AMR = 'pwd';

export interface AttemptContext {
  ip: string;
  userAgent?: string;
  clientId?: string;
}

export type PasswordResult =
  | { ok: true; account: Account }
  | { ok: false; reason: 'invalid' | 'disabled' }
  | { ok: false; reason: 'locked'; retryAfterSeconds: number };

/**
 * Username + password check with brute-force limits and audit. Unknown users and wrong
 * passwords take the same path (an argon2id verification against a decoy hash) and give
 * the same answer, so neither timing nor wording tells which usernames exist.
 */
export class PasswordStep {
  private constructor(
    private readonly accounts: AccountService,
    private readonly throttle: CredentialThrottle,
    private readonly audit: AuditLog,
    private readonly log: Logger,
    private readonly decoyHash: string,
  ) {}

  static async create(accounts: AccountService, throttle: CredentialThrottle, audit: AuditLog, log: Logger) {
    return new PasswordStep(accounts, throttle, audit, log, await hashPassword(randomBytes(16).toString('hex')));
  }

  async verify(usernameInput: string, password: string, at: AttemptContext): Promise<PasswordResult> {
    const username = normaliseUsername(usernameInput);
    const meta = { ip: at.ip, userAgent: at.userAgent, clientId: at.clientId };
    try {
      await this.throttle.check(username, at.ip);
    } catch (err) {
      if (!(err instanceof LockedOut)) throw err;
      await this.audit.record({ type: 'login.failed', outcome: 'failure', ...meta, details: { username, reason: `locked_${err.scope}` } });
      return { ok: false, reason: 'locked', retryAfterSeconds: err.retryAfterSeconds };
    }

    const found = await this.accounts.passwordHashOf(username);
    const { ok, rehash } = await verifyPassword(found?.hash ?? this.decoyHash, password);
    if (!found?.hash || !ok) {
      const locked = await this.throttle.fail(username, at.ip);
      await this.audit.record({
        type: 'login.failed',
        outcome: 'failure',
        subject: found?.account.id,
        ...meta,
        details: { username, reason: found ? 'wrong_password' : 'unknown_user' },
      });
      if (locked) {
        await this.audit.record({ type: 'login.locked_out', outcome: 'failure', subject: found?.account.id, ...meta, details: { username, scope: locked } });
      }
      return { ok: false, reason: 'invalid' };
    }
    const { account, hash } = found;
    if (account.disabled) {
      await this.audit.record({ type: 'login.failed', outcome: 'failure', subject: account.id, ...meta, details: { reason: 'disabled' } });
      return { ok: false, reason: 'disabled' };
    }
    await this.throttle.succeed(username);
    if (rehash) {
      // Imported bcrypt/PBKDF2 (or weaker argon2) hashes become argon2id on first use.
      await this.accounts.upgradeHash(account.id, hash, password).catch((err: Error) => this.log.error({ err }, 'password rehash failed'));
    }
    await this.audit.record({ type: 'login.succeeded', outcome: 'success', subject: account.id, ...meta, details: { amr: [PASSWORD_AMR] } });
    return { ok: true, account };
  }
}
