import { randomBytes } from 'node:crypto';
import type { AccountService } from '../../accounts/accounts.js';
import { normaliseUsername, type Account } from '../../accounts/accounts.js';
import { hashPassword, verifyPassword } from '../../accounts/password-hash.js';
import type { AuditLog } from '../../security/audit-log.js';
import type { CredentialThrottle } from '../../security/credential-throttle.js';
import type { Logger } from '../../log.js';
import { lockedOutRefusal } from '../attempt-outcomes.js';
import type { Attempt, Step, StepInput, StepOutcome, StepState } from '../step.js';

/**
 * Username + password, the identifying step. Brute-force limits per account and IP; unknown
 * users and wrong passwords take the same path (an argon2id verification against a decoy
 * hash) and get the same answer, so neither timing nor wording tells which usernames exist.
 */
export class PasswordStep implements Step {
  readonly id = 'password';
  readonly amr = 'pwd';
  readonly label = 'Password';
  readonly identifies = true;
  readonly view = 'password';

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

  async isEnrolled(account: Account): Promise<boolean> {
    return Boolean((await this.accounts.passwordHashOf(account.username))?.hash);
  }

  async prompt(state: StepState): Promise<Record<string, unknown>> {
    return { title: 'Sign in', username: state.account?.username ?? state.loginHint };
  }

  async verify({ fields: input }: StepInput, _state: StepState, at: Attempt): Promise<StepOutcome> {
    const typed = (input.username ?? '').trim();
    if (!typed || !input.password) return { ok: false, status: 400, message: 'Enter your username and password.', keepInput: { username: typed } };
    const username = normaliseUsername(typed);
    const keepInput = { username: typed };
    const meta = { ip: at.ip, userAgent: at.userAgent, clientId: at.clientId };
    // Independent reads: the lock state and the stored hash travel together.
    const [locked, found] = await Promise.all([this.throttle.check(username, at.ip), this.accounts.passwordHashOf(username)]);
    if (locked) {
      await this.audit.record({ type: 'login.failed', outcome: 'failure', ...meta, details: { username, reason: `locked_${locked.scope}` } });
      return { ...lockedOutRefusal(locked, 'Too many failed sign-in attempts.'), keepInput };
    }

    const { ok, rehash } = await verifyPassword(found?.hash ?? this.decoyHash, input.password);
    if (!found?.hash || !ok) {
      const nowLocked = await this.throttle.fail(username, at.ip);
      await this.audit.record({
        type: 'login.failed',
        outcome: 'failure',
        subject: found?.account.id,
        ...meta,
        details: { username, reason: found ? 'wrong_password' : 'unknown_user' },
      });
      if (nowLocked) {
        await this.audit.record({ type: 'login.locked_out', outcome: 'failure', subject: found?.account.id, ...meta, details: { username, scope: nowLocked } });
      }
      return { ok: false, status: 401, message: 'The username or password is incorrect.', keepInput };
    }
    const { account, hash } = found;
    if (account.disabled) {
      await this.audit.record({ type: 'login.failed', outcome: 'failure', subject: account.id, ...meta, details: { reason: 'disabled' } });
      return { ok: false, status: 403, message: 'This account is disabled. Contact your administrator.', keepInput };
    }
    if (rehash) {
      // Imported bcrypt/PBKDF2 (or weaker argon2) hashes become argon2id on first use.
      await this.accounts.upgradeHash(account.id, hash, input.password).catch((err: Error) => this.log.error({ err }, 'password rehash failed'));
    }
    await Promise.all([this.throttle.succeed(username), this.audit.record({ type: 'login.succeeded', outcome: 'success', subject: account.id, ...meta, details: { step: this.id, amr: this.amr } })]);
    return { ok: true, account };
  }
}
