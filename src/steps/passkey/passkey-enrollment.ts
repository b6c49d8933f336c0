import { generateRegistrationOptions, verifyRegistrationResponse } from '@simplewebauthn/server';
import { isoBase64URL } from '@simplewebauthn/server/helpers';
import type { Account } from '../../accounts/accounts.js';
import type { AuditLog } from '../../security/audit-log.js';
import { auditFields } from '../attempt-outcomes.js';
import type { Attempt, CredentialSummary, EnrollmentState, EnrollOutcome, SeveralCredentials, StepEnrollment, StepInput } from '../step.js';
import type { PasskeyChallenges } from './passkey-challenges.js';
import type { PasskeyCredentials } from './passkey-credentials.js';
import { amrFor } from './passkey-amr.js';
import { aaguidAllowed, settingsOf } from './passkey-settings.js';
import { RESPONSE_TEXT, type RelyingParty } from './relying-party.js';

const NAME_MAX = 64;
const DEFAULT_NAME = 'Passkey';
const STEP = { step: 'passkey' };

const FAILURE_TEXT: Record<string, string> = {
  challenge_invalid: 'This passkey request does not belong to this page. Try again.',
  challenge_expired: 'This passkey request has expired. Try again.',
  challenge_reused: 'This passkey response was already used. Try again.',
  attestation_invalid: 'The new passkey could not be verified. Try again.',
  already_registered: 'This passkey is already registered.',
  aaguid_not_allowed: 'This application accepts only passkeys from approved authenticators, and this one is not among them. Use another authenticator or ask your administrator.',
  ...RESPONSE_TEXT,
};

// The challenge binding of one set-up page for one account.
const setupBinding = ({ account, contextId }: EnrollmentState) => `passkey:setup:${contextId}:${account.id}`;

/** A name people gave a passkey: trimmed, without control characters, at most 64 characters. */
function nameOf(typed: string | undefined): string | undefined {
  const name = (typed ?? '').replace(/[\p{Cc}\p{Cf}]/gu, '').trim();
  return name.length <= NAME_MAX ? name || DEFAULT_NAME : undefined;
}

/**
 * Registering passkeys: discoverable (resident) credentials with user verification preferred and
 * attestation `none`. Each set-up adds one more; each is listed, renamed and removed on its own.
 */
export class PasskeyEnrollment implements StepEnrollment, SeveralCredentials {
  readonly view = 'passkey-enroll';
  readonly several: SeveralCredentials = this;

  constructor(
    private readonly credentials: PasskeyCredentials,
    private readonly challenges: PasskeyChallenges,
    private readonly rp: RelyingParty,
    private readonly audit: AuditLog,
  ) {}

  // Nothing is pending between pages: each page's challenge is issued with it.
  async begin(): Promise<string> {
    return '';
  }

  async prompt(state: EnrollmentState): Promise<Record<string, unknown>> {
    const { account } = state;
    const challenge = await this.challenges.issue(setupBinding(state));
    const existing = await this.credentials.ofAccount(account.id);
    const options = await generateRegistrationOptions({
      rpName: 'Tessera',
      rpID: this.rp.id,
      userName: account.username,
      userDisplayName: account.name ?? account.username,
      // The account id (the `sub`), not the username: authenticators show names, but keep the handle.
      userID: new TextEncoder().encode(account.id),
      challenge: isoBase64URL.toBuffer(challenge),
      timeout: this.challenges.seconds * 1000,
      attestationType: 'none',
      // An authenticator that holds one of the account's passkeys already is not asked for another.
      excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports })),
      authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'preferred' },
    });
    return { title: 'Add a passkey', options: JSON.stringify(options), nameMax: NAME_MAX };
  }

  async confirm({ fields }: StepInput, state: EnrollmentState, at: Attempt): Promise<EnrollOutcome> {
    const { account } = state;
    const name = nameOf(fields.name);
    if (!name) return { ok: false, status: 400, message: `Give the passkey a name of at most ${NAME_MAX} characters.` };
    const read = this.rp.readAttestation(fields.response);
    const refuse = async (reason: string, status = 400, details: Record<string, unknown> = {}): Promise<EnrollOutcome> => {
      await this.audit.record({ type: 'credential.enroll_failed', outcome: 'failure', ...auditFields(account, at), details: { ...STEP, reason, ...details } });
      return { ok: false, status, message: FAILURE_TEXT[reason]! };
    };
    if (!read.ok) return read.reason === 'malformed' ? { ok: false, status: 400, message: RESPONSE_TEXT.malformed } : refuse(read.reason);
    const challengeRefused = await this.challenges.redeem(read.challenge, setupBinding(state));
    if (challengeRefused) return refuse(challengeRefused);
    let info;
    try {
      const verification = await verifyRegistrationResponse({
        response: read.response,
        expectedChallenge: read.challenge,
        expectedOrigin: this.rp.origin,
        expectedRPID: this.rp.id,
        requireUserVerification: false,
      });
      info = verification.verified ? verification.registrationInfo : undefined;
    } catch {
      info = undefined;
    }
    if (!info) return refuse('attestation_invalid');
    const { credential, aaguid, credentialDeviceType, credentialBackedUp, userVerified } = info;
    if (!aaguidAllowed(settingsOf(state.settings), aaguid)) return refuse('aaguid_not_allowed', 403, { aaguid });
    const id = await this.credentials.add({
      accountId: account.id,
      credentialId: credential.id,
      publicKey: credential.publicKey,
      signCount: credential.counter,
      transports: credential.transports ?? [],
      aaguid,
      name,
      deviceType: credentialDeviceType,
      backedUp: credentialBackedUp,
    });
    if (!id) return refuse('already_registered', 409);
    await this.audit.record({ type: 'credential.enrolled', outcome: 'success', ...auditFields(account, at), details: { ...STEP, credential: id, aaguid, device_type: credentialDeviceType } });
    return { ok: true, amr: amrFor(credentialDeviceType, userVerified) };
  }

  async list(account: Account): Promise<CredentialSummary[]> {
    return (await this.credentials.ofAccount(account.id)).map((p) => ({
      id: p.id,
      name: p.name,
      createdAt: p.createdAt,
      lastUsedAt: p.lastUsedAt,
      kind: p.deviceType === 'singleDevice' ? 'device-bound passkey' : 'synced passkey',
    }));
  }

  async rename(account: Account, id: string, typed: string, at: Attempt): Promise<EnrollOutcome> {
    const name = nameOf(typed);
    if (!name) return { ok: false, status: 400, message: `Give the passkey a name of at most ${NAME_MAX} characters.` };
    if (!(await this.credentials.rename(account.id, id, name))) return { ok: false, status: 404, message: 'There is no such passkey on your account.' };
    await this.audit.record({ type: 'credential.renamed', outcome: 'success', ...auditFields(account, at), details: { ...STEP, credential: id } });
    return { ok: true };
  }

  async removeOne(account: Account, id: string, at: Attempt): Promise<boolean> {
    if (!(await this.credentials.remove(account.id, id))) return false;
    await this.audit.record({ type: 'credential.removed', outcome: 'success', ...auditFields(account, at), details: { ...STEP, credential: id } });
    return true;
  }

  async remove(account: Account, at: Attempt): Promise<boolean> {
    const removed = await this.credentials.removeAll(account.id);
    if (!removed) return false;
    await this.audit.record({ type: 'credential.removed', outcome: 'success', ...auditFields(account, at), details: { ...STEP, count: removed } });
    return true;
  }
}
