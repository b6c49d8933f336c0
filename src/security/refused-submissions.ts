import type { Context } from 'koa';
import { isBodyRefusal, readSubmission } from '../http/form-body.js';
import type { Logger } from '../log.js';
import type { StepInput, UploadLimits } from '../steps/step.js';
import type { AuditLog } from './audit-log.js';
import type { RateCounter } from './rate-counter.js';

/** Whose submission was refused, as far as the route knows before the body is read. */
export interface Submitter {
  step?: string;
  subject?: string;
  clientId?: string;
}

// Nothing limits posts to the sign-in pages per IP before their bodies are read, so refusals are
// audited up to this many per IP and window; beyond it they are only answered (and logged per request).
const WINDOW_SECONDS = 600;
const AUDITED_PER_IP = 30;

/**
 * A submission refused while its body is read (wrong content type, too large, malformed
 * multipart, an unusable device payload) never reaches its step, so the step cannot audit it.
 * The sign-in pages, the account console and device capture read bodies through this, which
 * audits the refusal (`submission.refused` with the step, the HTTP status and the reason code)
 * and throws it on unchanged, so the answer stays the same readable page or JSON.
 */
export class RefusedSubmissions {
  constructor(
    private readonly audit: AuditLog,
    private readonly counter: RateCounter,
    private readonly log: Logger,
  ) {}

  /** A step's submission (plain form, or multipart within `uploads`), refusals audited. */
  read(ctx: Context, who: Submitter, uploads?: UploadLimits): Promise<StepInput> {
    return this.audited(ctx, who, () => readSubmission(ctx, uploads));
  }

  /** Runs `read`; a body refusal it throws is audited, then thrown on. */
  async audited<T>(ctx: Context, who: Submitter, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (err) {
      if (isBodyRefusal(err)) await this.record(ctx, who, err.status, err.reason);
      throw err;
    }
  }

  private async record(ctx: Context, who: Submitter, status: number, reason: string): Promise<void> {
    const { count } = await this.counter.hit(`refused:ip:${ctx.ip}`, WINDOW_SECONDS);
    if (count > AUDITED_PER_IP) {
      if (count === AUDITED_PER_IP + 1) this.log.warn({ requestId: ctx.state.requestId, step: who.step, limit: AUDITED_PER_IP, windowSeconds: WINDOW_SECONDS }, 'refused submissions from one address: no longer audited in this window');
      return;
    }
    await this.audit.record({
      type: 'submission.refused',
      outcome: 'failure',
      subject: who.subject,
      clientId: who.clientId,
      ip: ctx.ip,
      userAgent: ctx.get('user-agent') || undefined,
      details: { ...(who.step ? { step: who.step } : {}), status, reason },
    });
  }
}
