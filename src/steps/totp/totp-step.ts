import { generateSecret, generateURI, verify } from 'otplib';
import QRCode from 'qrcode';
import type { Account } from '../../accounts/accounts.js';
import type { AuditLog } from '../../security/audit-log.js';
import type { CredentialThrottle, LockedOut } from '../../security/credential-throttle.js';
import type { SealedBox } from '../../security/sealed-box.js';
import { auditFields, lockedOutRefusal } from '../attempt-outcomes.js';
import type { Attempt, EnrollmentAction, EnrollmentState, EnrollOutcome, Step, StepEnrollment, StepInput, StepOutcome, StepState } from '../step.js';
import type { TotpCredential, TotpCredentials } from './totp-credentials.js';

// RFC 6238 defaults every authenticator app understands.
const DEFAULTS = { algorithm: 'sha1', digits: 6, period: 30 } as const;
const SIX_DIGITS = /^\d{6}$/;
const RECOVERY = /^[0-9A-Za-z]{5}-?[0-9A-Za-z]{5}$/;

const tooManyCodes = (locked: LockedOut) => lockedOutRefusal(locked, 'Too many wrong codes.');

/** Checks a code against a secret with ±1 time step of clock drift. */
async function check(credential: TotpCredential, code: string) {
  const result = await verify({
    secret: credential.secret,
    token: code,
    algorithm: credential.algorithm,
    digits: credential.digits as 6,
    period: credential.period,
    epochTolerance: credential.period,
  });
  return result.valid && 'timeStep' in result ? result.timeStep : undefined;
}

/**
 * Time-based one-time passwords (otplib). A code is accepted once: its time step must be
 * newer than the last accepted one, claimed with a conditional write shared by every
 * process. Ten single-use recovery codes stand in when the authenticator is lost.
 */
export class TotpStep implements Step {
  readonly id = 'totp';
  readonly amr = 'otp';
  readonly label = 'Authenticator app';
  readonly identifies = false;
  readonly view = 'totp';
  readonly enrollment: StepEnrollment;

  constructor(
    private readonly credentials: TotpCredentials,
    private readonly throttle: CredentialThrottle,
    private readonly audit: AuditLog,
    pendingBox: SealedBox,
    issuerName: string,
  ) {
    this.enrollment = new TotpEnrollment(credentials, throttle, audit, pendingBox, issuerName);
  }

  isEnrolled(account: Account): Promise<boolean> {
    return this.credentials.exists(account.id);
  }

  async prompt(): Promise<Record<string, unknown>> {
    return { title: 'Two-step verification' };
  }

  async verify({ fields: input }: StepInput, state: StepState, at: Attempt): Promise<StepOutcome> {
    const account = state.account;
    if (!account) return { ok: false, status: 400, message: 'Sign in with your password first.' };
    const code = (input.code ?? '').replace(/\s+/g, '');
    if (!SIX_DIGITS.test(code) && !RECOVERY.test(code)) return { ok: false, status: 400, message: 'Enter the 6-digit code from your authenticator app, or a recovery code.' };
    const key = `totp:${account.id}`;
    const meta = auditFields(account, at);
    const isTotp = SIX_DIGITS.test(code);
    // Independent reads: the lock state and the credential travel together.
    const [locked, credential] = await Promise.all([this.throttle.check(key, at.ip), isTotp ? this.credentials.get(account.id) : undefined]);
    if (locked) {
      await this.audit.record({ type: 'login.failed', outcome: 'failure', ...meta, details: { step: this.id, reason: `locked_${locked.scope}` } });
      return tooManyCodes(locked);
    }

    let reason: string | undefined;
    let method = 'totp';
    if (isTotp) {
      const timeStep = credential ? await check(credential, code) : undefined;
      if (timeStep === undefined) reason = 'wrong_code';
      else if (!(await this.credentials.claimTimeStep(account.id, timeStep))) reason = 'replayed_code';
    } else {
      method = 'recovery_code';
      if (!(await this.credentials.useRecoveryCode(account.id, code))) reason = 'wrong_recovery_code';
    }

    if (reason) {
      const nowLocked = await this.throttle.fail(key, at.ip);
      await this.audit.record({ type: 'login.failed', outcome: 'failure', ...meta, details: { step: this.id, reason } });
      if (nowLocked) await this.audit.record({ type: 'login.locked_out', outcome: 'failure', ...meta, details: { step: this.id, scope: nowLocked } });
      const message = reason === 'replayed_code' ? 'That code has already been used. Wait for the next code and try again.' : 'That code is not correct.';
      return { ok: false, status: 401, message };
    }
    const details: Record<string, unknown> = { step: this.id, amr: this.amr, method };
    if (method === 'recovery_code') details.recovery_codes_left = await this.credentials.remainingRecoveryCodes(account.id);
    await Promise.all([this.throttle.succeed(key), this.audit.record({ type: 'login.succeeded', outcome: 'success', ...meta, details })]);
    return { ok: true, account };
  }
}

class TotpEnrollment implements StepEnrollment {
  readonly view = 'totp-enroll';
  readonly actions: EnrollmentAction[] = [
    { id: 'recovery-codes', label: 'Get new recovery codes', run: (account, at) => this.newRecoveryCodes(account, at) },
  ];

  constructor(
    private readonly credentials: TotpCredentials,
    private readonly throttle: CredentialThrottle,
    private readonly audit: AuditLog,
    private readonly box: SealedBox,
    private readonly issuerName: string,
  ) {}

  async begin(account: Account): Promise<string> {
    return this.box.seal(generateSecret(), account.id);
  }

  async prompt({ account, pending }: EnrollmentState): Promise<Record<string, unknown>> {
    const secret = this.box.open(pending, account.id).toString('utf8');
    const uri = generateURI({ issuer: this.issuerName, label: account.username, secret, ...DEFAULTS });
    return {
      title: 'Set up two-step verification',
      qr: await QRCode.toDataURL(uri, { margin: 1, width: 220 }),
      // Grouped in fours for typing into an app by hand.
      manualKey: secret.replace(/(.{4})/g, '$1 ').trim(),
    };
  }

  async confirm({ fields: input }: StepInput, { account, pending }: EnrollmentState, at: Attempt): Promise<EnrollOutcome> {
    const code = (input.code ?? '').replace(/\s+/g, '');
    if (!SIX_DIGITS.test(code)) return { ok: false, status: 400, message: 'Enter the 6-digit code your authenticator app shows.' };
    const key = `totp:${account.id}`;
    const locked = await this.throttle.check(key, at.ip);
    if (locked) return tooManyCodes(locked);
    const credential: TotpCredential = { secret: this.box.open(pending, account.id).toString('utf8'), ...DEFAULTS };
    const timeStep = await check(credential, code);
    if (timeStep === undefined) {
      await this.throttle.fail(key, at.ip);
      return { ok: false, status: 401, message: 'That code is not correct. Check the time on your phone and try the current code.' };
    }
    await this.throttle.succeed(key);
    await this.credentials.save(account.id, credential, timeStep);
    await this.audit.record({ type: 'credential.enrolled', outcome: 'success', ...auditFields(account, at), details: { step: 'totp' } });
    return this.showRecoveryCodes(account);
  }

  private async showRecoveryCodes(account: Account): Promise<EnrollOutcome> {
    const codes = await this.credentials.issueRecoveryCodes(account.id);
    return { ok: true, show: { view: 'recovery-codes', data: { title: 'Save your recovery codes', codes } } };
  }

  /** Replaces every recovery code (the old ones stop working), e.g. after some were used up. */
  private async newRecoveryCodes(account: Account, at: Attempt): Promise<EnrollOutcome> {
    if (!(await this.credentials.exists(account.id))) return { ok: false, status: 409, message: 'Set up the authenticator app first.' };
    const shown = await this.showRecoveryCodes(account);
    await this.audit.record({ type: 'credential.recovery_codes_issued', outcome: 'success', ...auditFields(account, at), details: { step: 'totp' } });
    return shown;
  }

  async remove(account: Account, at: Attempt): Promise<boolean> {
    if (!(await this.credentials.exists(account.id))) return false;
    // The recovery codes go with the authenticator they stand in for.
    await this.credentials.remove(account.id);
    await this.audit.record({ type: 'credential.removed', outcome: 'success', ...auditFields(account, at), details: { step: 'totp' } });
    return true;
  }
}
