import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from '../log.js';
import type { AuditLog } from '../security/audit-log.js';
import type { RateCounter } from '../security/rate-counter.js';

// Protocol endpoints take unauthenticated requests, so their refusals are audited up to this many
// per IP and window; beyond it they are only logged (a flood of bad requests cannot flood the trail).
const WINDOW_SECONDS = 600;
const AUDITED_PER_IP = 60;

// Ordinary protocol answers, not refusals: a DPoP nonce challenge (RFC 9449 §8) and the outcomes
// of a silent (prompt=none) authorization request.
const NOT_REFUSALS = new Set(['use_dpop_nonce', 'login_required', 'consent_required', 'interaction_required', 'account_selection_required']);

/**
 * Requests oidc-provider refuses (its `*.error` events: a replayed DPoP proof, an expired
 * request_uri, malformed registration metadata…) land in the audit trail as
 * `oauth.request_refused` with the endpoint and the RFC error code. Only the error code and the
 * library's description and detail (why an invalid_grant was refused, say) are kept: never the
 * request's proofs, tokens or assertions.
 */
export class ProtocolRefusals {
  constructor(
    private readonly audit: AuditLog,
    private readonly counter: RateCounter,
    private readonly log: Logger,
  ) {}

  async note(ctx: KoaContextWithOIDC, event: string, err: { error?: string; error_description?: string; error_detail?: string; status?: number }): Promise<void> {
    const clientId = ctx.oidc?.client?.clientId;
    this.log.info({ requestId: ctx.state.requestId, event, error: err.error, description: err.error_description, clientId }, 'request rejected');
    if (err.error && NOT_REFUSALS.has(err.error)) return;
    const { count } = await this.counter.hit(`protocol-refused:ip:${ctx.ip}`, WINDOW_SECONDS);
    if (count > AUDITED_PER_IP) {
      if (count === AUDITED_PER_IP + 1) this.log.warn({ requestId: ctx.state.requestId, limit: AUDITED_PER_IP, windowSeconds: WINDOW_SECONDS }, 'refused protocol requests from one address: no longer audited in this window');
      return;
    }
    this.audit.note({
      type: 'oauth.request_refused',
      outcome: 'failure',
      subject: ctx.oidc?.session?.accountId,
      clientId,
      ip: ctx.ip,
      userAgent: ctx.get('user-agent') || undefined,
      details: { event, route: ctx.oidc?.route, status: err.status, error: err.error, description: err.error_description?.slice(0, 200), detail: err.error_detail?.slice(0, 200) },
    });
  }
}
