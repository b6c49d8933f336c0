import { createHash } from 'node:crypto';
import { generateAuthenticationOptions, verifyAuthenticationResponse, type AuthenticationResponseJSON } from '@simplewebauthn/server';
import { isoBase64URL } from '@simplewebauthn/server/helpers';
import type { Account, AccountService } from '../../accounts/accounts.js';
import type { AuditLog } from '../../security/audit-log.js';
import type { CredentialThrottle } from '../../security/credential-throttle.js';
import { auditFields, lockedOutRefusal } from '../attempt-outcomes.js';
import type { Attempt, Step, StepEnrollment, StepInput, StepOutcome, StepState } from '../step.js';
import { amrFor, PASSKEY_KINDS } from './passkey-amr.js';
import type { PasskeyChallenges } from './passkey-challenges.js';
import type { Passkey, PasskeyCredentials } from './passkey-credentials.js';
import { PasskeyEnrollment } from './passkey-enrollment.js';
import { aaguidAllowed, settingsOf, settingsProblems } from './passkey-settings.js';
import { RESPONSE_TEXT, type RelyingParty } from './relying-party.js';

const FAILURE_TEXT: Record<string, string> = {
  unknown_credential: 'This passkey is not registered for this account here (it may have been removed). Use another passkey or sign-in method.',
  challenge_invalid: 'This passkey request does not belong to this sign-in. Try again.',
  challenge_expired: 'This passkey request has expired. Try again.',
  challenge_reused: 'This passkey response was already used. Try again.',
  bad_signature: 'The passkey could not be verified. Try again.',
  account_disabled: 'This account can no longer sign in.',
  aaguid_not_allowed: 'This application accepts only passkeys from approved authenticators, and this one is not among them. Use another passkey or ask your administrator.',
  clone_suspected: 'This passkey was refused: its authenticator reported a use count that went backwards, which a copied passkey does. Use another sign-in method and tell your administrator.',
};

// The challenge binding of a sign-in's passkey page.
const signInBinding = (interactionId: string) => `passkey:sign-in:${interactionId}`;

/**
 * Passkeys (WebAuthn, @simplewebauthn/server). With no account known yet the step asks for any
 * discoverable credential of this site and tells who the user is from it (passwordless and
 * usernameless); after another step it asks only for that account's passkeys. Challenges are
 * single-use and expire; the RP ID and origin are the issuer's; a signature counter that does
 * not go up is taken for a cloned authenticator.
 */
export class PasskeyStep implements Step {
  readonly id = 'passkey';
  readonly amr = 'hwk';
  readonly label = 'Passkey';
  readonly identifies = true;
  readonly view = 'passkey';
  readonly enrollment: StepEnrollment;
  readonly settingsProblems = settingsProblems;

  constructor(
    private readonly credentials: PasskeyCredentials,
    private readonly challenges: PasskeyChallenges,
    private readonly rp: RelyingParty,
    private readonly accounts: AccountService,
    private readonly throttle: CredentialThrottle,
    private readonly audit: AuditLog,
  ) {
    this.enrollment = new PasskeyEnrollment(credentials, challenges, rp, audit);
  }

  amrIn(sessionAmr: readonly string[]): string[] {
    const kinds = sessionAmr.filter((v) => PASSKEY_KINDS.has(v));
    return kinds.length && sessionAmr.includes('user') ? [...kinds, 'user'] : kinds;
  }

  isEnrolled(account: Account): Promise<boolean> {
    return this.credentials.exists(account.id);
  }

  async prompt(state: StepState): Promise<Record<string, unknown>> {
    const challenge = await this.challenges.issue(signInBinding(state.interactionId));
    const settings = settingsOf(state.settings);
    const known = state.account ? (await this.credentials.ofAccount(state.account.id)).filter((p) => aaguidAllowed(settings, p.aaguid)) : [];
    const allowCredentials = known.map((p) => ({ id: p.credentialId, transports: p.transports }));
    const options = await generateAuthenticationOptions({
      rpID: this.rp.id,
      challenge: isoBase64URL.toBuffer(challenge),
      allowCredentials,
      userVerification: 'preferred',
      timeout: this.challenges.seconds * 1000,
    });
    return { title: state.account ? 'Confirm with your passkey' : 'Sign in with a passkey', options: JSON.stringify(options), secondFactor: Boolean(state.account) };
  }

  async verify({ fields }: StepInput, state: StepState, at: Attempt): Promise<StepOutcome> {
    const read = this.rp.readAssertion(fields.response);
    if (!read.ok && read.reason === 'malformed') return { ok: false, status: 400, message: RESPONSE_TEXT.malformed };
    const credentialId = read.ok ? read.response.id : read.credentialId;
    const passkey = credentialId ? await this.credentials.byCredentialId(credentialId) : undefined;
    // Failures count against the account once it is known (the sign-in's, else the passkey's), else against the credential id.
    const subject = state.account?.id ?? passkey?.accountId;
    const key = `passkey:${subject ?? `credential:${createHash('sha256').update(credentialId ?? '').digest('base64url')}`}`;
    const meta = { subject, ip: at.ip, userAgent: at.userAgent, clientId: at.clientId };
    const locked = await this.throttle.check(key, at.ip);
    if (locked) {
      await this.audit.record({ type: 'login.failed', outcome: 'failure', ...meta, details: { step: this.id, reason: `locked_${locked.scope}` } });
      return lockedOutRefusal(locked, 'Too many failed passkey attempts.');
    }
    const refuse = async (reason: string, status = 401, details: Record<string, unknown> = {}): Promise<StepOutcome> => {
      const nowLocked = await this.throttle.fail(key, at.ip);
      await this.audit.record({ type: 'login.failed', outcome: 'failure', ...meta, details: { step: this.id, reason, ...details } });
      if (nowLocked) await this.audit.record({ type: 'login.locked_out', outcome: 'failure', ...meta, details: { step: this.id, scope: nowLocked } });
      return { ok: false, status, message: FAILURE_TEXT[reason] ?? RESPONSE_TEXT[reason as keyof typeof RESPONSE_TEXT] };
    };
    if (!read.ok) return refuse(read.reason, 400);
    if (!passkey || (state.account && passkey.accountId !== state.account.id)) return refuse('unknown_credential');
    if (!aaguidAllowed(settingsOf(state.settings), passkey.aaguid)) return refuse('aaguid_not_allowed', 403, { aaguid: passkey.aaguid });
    const challengeRefused = await this.challenges.redeem(read.challenge, signInBinding(state.interactionId));
    if (challengeRefused) return refuse(challengeRefused);
    const checked = await this.checkSignature(passkey, read.response, read.challenge);
    if (!checked) return refuse('bad_signature');
    const { newCounter, userVerified, credentialDeviceType, credentialBackedUp } = checked;
    const credential = { credential: passkey.id };
    if (((passkey.signCount > 0 || newCounter > 0) && newCounter <= passkey.signCount) || !(await this.credentials.recordUse(passkey.id, newCounter, credentialBackedUp))) {
      await this.audit.record({
        type: 'credential.clone_suspected',
        outcome: 'failure',
        ...meta,
        details: { step: this.id, ...credential, stored_count: passkey.signCount, reported_count: newCounter },
      });
      return refuse('clone_suspected', 401, credential);
    }
    const account = await this.accounts.findRecent(passkey.accountId);
    if (!account || account.disabled) return refuse('account_disabled', 403);
    const amr = amrFor(credentialDeviceType, userVerified);
    await Promise.all([this.throttle.succeed(key), this.audit.record({ type: 'login.succeeded', outcome: 'success', ...auditFields(account, at), details: { step: this.id, amr, ...credential } })]);
    return { ok: true, account, amr };
  }

  /**
   * The library's verification (challenge, origin, RP ID, user presence, signature). It is given a
   * counter of 0 so that it does not judge the counter itself: the step does, after the signature,
   * so that only a genuine assertion can raise a clone warning.
   */
  private async checkSignature(passkey: Passkey, response: AuthenticationResponseJSON, challenge: string) {
    try {
      const { verified, authenticationInfo } = await verifyAuthenticationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: this.rp.origin,
        expectedRPID: this.rp.id,
        credential: { id: passkey.credentialId, publicKey: passkey.publicKey, counter: 0, transports: passkey.transports },
        requireUserVerification: false,
      });
      // The user handle, when the authenticator returns one, must name the passkey's own account.
      const handle = response.response.userHandle;
      if (!verified || (handle && handle !== isoBase64URL.fromUTF8String(passkey.accountId))) return undefined;
      return authenticationInfo;
    } catch {
      return undefined;
    }
  }
}
