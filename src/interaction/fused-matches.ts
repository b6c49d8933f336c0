import type { FusedRequirement } from '../../config/schema.js';
import type { Account } from '../accounts/accounts.js';
import { fuseLlrs } from '../biometrics/fusion/index.js';
import type { AuditLog } from '../security/audit-log.js';
import type { CredentialThrottle } from '../security/credential-throttle.js';
import { auditFields, lockedOutRefusal } from '../steps/attempt-outcomes.js';
import type { Attempt, MatchEvidence } from '../steps/step.js';

export const FUSED_REJECTION = 'The combined check did not confirm that it is you. Try each check again.';

const round = (x: number, digits: number) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);

/**
 * The decision of a fused requirement (`{ "fuse": [...], "far": … }`): its steps report calibrated
 * evidence one by one (kept with the sign-in), and here their LLRs are summed against the
 * threshold of the target FAR. A rejection counts against the account and source like a wrong
 * password, under its own key: the steps do not count the matches they only reported.
 */
export class FusedMatches {
  constructor(
    private readonly throttle: CredentialThrottle,
    private readonly audit: AuditLog,
  ) {}

  private key = (account: Account) => `fused:${account.id}`;

  /** The refusal while rejected fused decisions have locked the account or the source out; checked before each fused step. */
  async locked(account: Account, at: Attempt) {
    const locked = await this.throttle.check(this.key(account), at.ip);
    if (!locked) return undefined;
    await this.audit.record({ type: 'login.failed', outcome: 'failure', ...auditFields(account, at), details: { step: 'fuse', reason: `locked_${locked.scope}` } });
    return lockedOutRefusal(locked, 'Too many combined checks did not match.');
  }

  /** Decides on the evidence each fused step reported; the audit event holds every score and LLR and the sum. */
  async decide(requirement: FusedRequirement, evidence: Readonly<Record<string, MatchEvidence>>, account: Account, at: Attempt, amr: (step: string) => string): Promise<boolean> {
    const parts = requirement.fuse.map((step) => {
      const e = evidence[step];
      if (!e) throw new Error(`fused requirement decided without evidence from ${step}`);
      // Stored with the sign-in as JSON, where −∞ (a face that could not be acquired) becomes null.
      return { step, matcher: e.matcher, score: e.score, llr: typeof e.llr === 'number' ? e.llr : -Infinity };
    });
    const decision = fuseLlrs(parts, requirement.far);
    const details = {
      step: 'fuse',
      fuse: requirement.fuse,
      far: requirement.far,
      scores: parts.map((p) => ({ step: p.step, matcher: p.matcher, score: round(p.score, 4), llr: round(p.llr, 3) })),
      llr: round(decision.llr, 3),
      threshold: round(decision.threshold, 3),
      decision: decision.accept ? 'accept' : 'reject',
    };
    const meta = auditFields(account, at);
    if (decision.accept) {
      await this.throttle.succeed(this.key(account));
      await this.audit.record({ type: 'login.succeeded', outcome: 'success', ...meta, details: { ...details, amr: requirement.fuse.map(amr) } });
      return true;
    }
    const nowLocked = await this.throttle.fail(this.key(account), at.ip);
    await this.audit.record({ type: 'login.failed', outcome: 'failure', ...meta, details: { ...details, reason: 'fused_no_match' } });
    if (nowLocked) await this.audit.record({ type: 'login.locked_out', outcome: 'failure', ...meta, details: { step: 'fuse', scope: nowLocked } });
    return false;
  }
}
