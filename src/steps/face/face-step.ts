import { CANCELABLE_FORMAT } from '../../biometrics/cancelable/index.js';
import { DEFAULT_QUALITY, embeddingDistance, matchAgainst } from '../../biometrics/face/index.js';
import { llrField, scoreLlr, type Calibration } from '../../biometrics/fusion/index.js';
import type { Account } from '../../accounts/accounts.js';
import type { AuditLog } from '../../security/audit-log.js';
import type { CredentialThrottle, LockedOut } from '../../security/credential-throttle.js';
import { auditFields, lockedOutRefusal } from '../attempt-outcomes.js';
import type { Attempt, EnrollmentState, EnrollOutcome, Step, StepEnrollment, StepInput, StepOutcome, StepState, UploadLimits, VerifyMode } from '../step.js';
import { isBurstFailure, MAX_FRAME_BYTES, MAX_FRAMES, MIN_FRAMES, padAuditFields, round, type Burst, type BurstFailure, type BurstReader } from './burst.js';
import { instructionFor, MOVE_TEXT, type Challenges } from './challenge.js';
import type { FaceAnalyser } from './face-analyser.js';
import type { EnrolledFace, FaceTemplates } from './face-templates.js';

// Enrollment keeps this many frames' embeddings, no fewer than the minimum, from distinct frames.
const MIN_TEMPLATES = 3;
const MAX_TEMPLATES = 5;
// Two frames whose embeddings are closer than this add nothing as separate templates.
const MIN_TEMPLATE_SPREAD = 0.02;

const UPLOAD: UploadLimits = { maxBytes: MAX_FRAMES * MAX_FRAME_BYTES + 64 * 1024, maxFiles: MAX_FRAMES };

const tooManyAttempts = (locked: LockedOut) => lockedOutRefusal(locked, 'Too many failed face checks.');

/** What a face page needs: the movements to perform (in words and as a sealed token) and the burst size. */
async function challengePrompt(challenges: Challenges, binding: string) {
  const { moves, token } = await challenges.issue(binding);
  return {
    challenge: token,
    challengeKinds: moves.join(' '),
    instruction: instructionFor(moves),
    moves: moves.map((kind) => ({ kind, text: MOVE_TEXT[kind] })),
    minFrames: MIN_FRAMES,
    maxFrames: MAX_FRAMES,
  };
}

/**
 * Face verification with an active liveness challenge: the page captures a burst of frames while
 * the user follows a random instruction; the burst must show that movement by one live person,
 * and its most frontal frame must match one of the account's sealed templates.
 */
export class FaceStep implements Step {
  readonly id = 'face';
  readonly amr = 'face';
  readonly label = 'Face';
  readonly identifies = false;
  readonly view = 'face';
  readonly upload = UPLOAD;
  readonly enrollment: StepEnrollment;
  readonly fusion?: { readonly matcher: string };

  constructor(
    private readonly templates: FaceTemplates,
    private readonly bursts: BurstReader,
    private readonly challenges: Challenges,
    private readonly throttle: CredentialThrottle,
    private readonly audit: AuditLog,
    private readonly threshold: number,
    private readonly analyser: FaceAnalyser,
    /** The recognition model's score calibration, so that audits carry each match's LLR (for fusion). */
    private readonly calibration?: Calibration,
  ) {
    this.enrollment = new FaceEnrollment(templates, bursts, challenges, throttle, audit);
    if (calibration) this.fusion = { matcher: calibration.matcher };
  }

  warm(): Promise<void> {
    return this.analyser.start();
  }

  close(): Promise<void> {
    return this.analyser.close();
  }

  isEnrolled(account: Account): Promise<boolean> {
    return this.templates.exists(account.id);
  }

  async prompt(state: StepState): Promise<Record<string, unknown>> {
    return { title: 'Face check', ...(await challengePrompt(this.challenges, state.interactionId)) };
  }

  async verify(input: StepInput, state: StepState, at: Attempt, mode?: VerifyMode): Promise<StepOutcome> {
    const account = state.account;
    if (!account) return { ok: false, status: 400, message: 'Sign in with your password first.' };
    const key = `face:${account.id}`;
    const locked = await this.throttle.check(key, at.ip);
    if (locked) {
      await this.audit.record({ type: 'login.failed', outcome: 'failure', ...auditFields(account, at), details: { step: this.id, reason: `locked_${locked.scope}` } });
      return tooManyAttempts(locked);
    }
    const burst = await this.bursts.read(input, state.interactionId, account.id);
    if (isBurstFailure(burst)) return this.refuse(burst, key, account, at);

    const enrolled = await this.templates.list(account.id);
    // Removed while this sign-in was under way.
    if (enrolled.length === 0) return { ok: false, status: 409, message: 'Face sign-in is no longer set up for this account.' };
    const decision = matchAgainst(burst.frames[burst.probe]!.embedding, enrolled.map((e) => e.template), this.templates.scheme, this.threshold);
    const details = { step: this.id, score: round(decision.distance), ...llrField(this.calibration, decision.distance), threshold: decision.threshold, decision: decision.match ? 'match' : 'no_match', challenge: burst.challenge, frames: burst.frames.length, ...padAuditFields(burst.pad), quality_reasons: [] };
    if (mode?.fused && this.calibration) {
      // The engine decides on the fused score and counts a rejection; the step's own verdict is only noted.
      await this.audit.record({ type: 'login.scored', outcome: 'success', ...auditFields(account, at), details: { ...details, fused: true } });
      if (decision.match) await this.migrateLegacy(account, enrolled, at);
      return { ok: true, account, evidence: { matcher: this.calibration.matcher, score: decision.distance, llr: scoreLlr(this.calibration, decision.distance) } };
    }
    if (!decision.match) {
      return this.refuse({ status: 401, reason: 'no_match', counts: true, message: 'Your face did not match the one set up for this account.', details }, key, account, at);
    }
    await this.throttle.succeed(key);
    await this.audit.record({ type: 'login.succeeded', outcome: 'success', ...auditFields(account, at), details: { ...details, amr: this.amr } });
    await this.migrateLegacy(account, enrolled, at);
    return { ok: true, account };
  }

  /** Templates enrolled as plain embeddings become cancelable ones once their owner has matched them. */
  private async migrateLegacy(account: Account, enrolled: readonly EnrolledFace[], at: Attempt): Promise<void> {
    const legacy = enrolled.flatMap((e) => (e.template.kind === 'embedding' ? [{ id: e.id, vector: e.template.vector }] : []));
    if (legacy.length === 0 || !(await this.templates.migrate(account.id, legacy))) return;
    await this.audit.record({ type: 'credential.migrated', outcome: 'success', ...auditFields(account, at), details: { step: this.id, templates: legacy.length, format: CANCELABLE_FORMAT } });
  }

  private async refuse(failure: BurstFailure, key: string, account: Account, at: Attempt): Promise<StepOutcome> {
    const nowLocked = failure.counts ? await this.throttle.fail(key, at.ip) : undefined;
    await this.audit.record({ type: 'login.failed', outcome: 'failure', ...auditFields(account, at), details: { step: this.id, reason: failure.reason, ...failure.details } });
    if (nowLocked) await this.audit.record({ type: 'login.locked_out', outcome: 'failure', ...auditFields(account, at), details: { step: this.id, scope: nowLocked } });
    return { ok: false, status: failure.status, message: failure.message, retryAfterSeconds: failure.retryAfterSeconds };
  }
}

class FaceEnrollment implements StepEnrollment {
  readonly view = 'face';

  constructor(
    private readonly templates: FaceTemplates,
    private readonly bursts: BurstReader,
    private readonly challenges: Challenges,
    private readonly throttle: CredentialThrottle,
    private readonly audit: AuditLog,
  ) {}

  /** Nothing is pending: the frames arrive with the confirming submission. */
  async begin(): Promise<string> {
    return '';
  }

  /** The challenge is bound to the set-up page's context (this sign-in's enrollment, or this console set-up). */
  async prompt({ contextId }: EnrollmentState): Promise<Record<string, unknown>> {
    return { title: 'Set up face sign-in', enroll: true, ...(await challengePrompt(this.challenges, contextId)) };
  }

  async confirm(input: StepInput, { account, contextId }: EnrollmentState, at: Attempt): Promise<EnrollOutcome> {
    const key = `face:${account.id}`;
    const locked = await this.throttle.check(key, at.ip);
    if (locked) return tooManyAttempts(locked);
    const burst = await this.bursts.read(input, contextId, account.id);
    const chosen = isBurstFailure(burst) ? [] : templateFrames(burst);
    const failure: BurstFailure | undefined = isBurstFailure(burst)
      ? burst
      : chosen.length < MIN_TEMPLATES
        ? { status: 422, reason: 'too_few_frontal_frames', counts: false, message: `We need at least ${MIN_TEMPLATES} clear frames facing the camera. Start by looking straight at the camera for a moment.` }
        : undefined;
    if (failure) {
      if (failure.counts) await this.throttle.fail(key, at.ip);
      await this.audit.record({ type: 'credential.enrolled', outcome: 'failure', ...auditFields(account, at), details: { step: 'face', reason: failure.reason, ...failure.details } });
      return { ok: false, status: failure.status, message: failure.message, retryAfterSeconds: failure.retryAfterSeconds };
    }
    await this.throttle.succeed(key);
    await this.templates.replace(account.id, chosen);
    await this.audit.record({ type: 'credential.enrolled', outcome: 'success', ...auditFields(account, at), details: { step: 'face', templates: chosen.length, challenge: (burst as Burst).challenge, ...padAuditFields((burst as Burst).pad) } });
    return { ok: true };
  }

  async remove(account: Account, at: Attempt): Promise<boolean> {
    const removed = await this.templates.remove(account.id);
    if (removed === 0) return false;
    await this.audit.record({ type: 'credential.removed', outcome: 'success', ...auditFields(account, at), details: { step: 'face', templates: removed } });
    return true;
  }
}

/** The most frontal frames within the normal pose limit, skipping any that repeat an earlier one. */
function templateFrames(burst: Burst): Float32Array[] {
  // The pose limit of single-photo captures (the pipeline's yaw proxy is the same measure).
  const frontal = burst.frames.filter((f) => Math.abs(f.pose.yaw) <= DEFAULT_QUALITY.maxYaw).sort((a, b) => Math.abs(a.pose.yaw) - Math.abs(b.pose.yaw));
  const chosen: Float32Array[] = [];
  for (const frame of frontal) {
    if (chosen.length === MAX_TEMPLATES) break;
    if (chosen.every((c) => embeddingDistance(c, frame.embedding) >= MIN_TEMPLATE_SPREAD)) chosen.push(frame.embedding);
  }
  return chosen;
}
