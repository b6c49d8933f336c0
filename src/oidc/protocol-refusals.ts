import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from '../log.js';
import type { AuditLog } from '../security/audit-log.js';

// Protocol endpoints take unauthenticated requests, so each process audits at most this many of
// their refusals per IP and window; beyond it they are only logged (a flood of bad requests cannot
// flood the trail). Counted in memory: a refused request writes nothing to the stores.
const WINDOW_MS = 600_000;
const AUDITED_PER_IP = 60;
const MAX_TRACKED_IPS = 10_000;

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
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly audit: AuditLog,
    private readonly log: Logger,
  ) {}

  /** Counts a refusal from the IP; false once the IP has had its share of audited refusals in this window. */
  private withinCap(ip: string, requestId: unknown): boolean {
    const now = Date.now();
    let window = this.windows.get(ip);
    if (!window || window.resetAt <= now) {
      if (this.windows.size >= MAX_TRACKED_IPS) this.windows.clear();
      window = { count: 0, resetAt: now + WINDOW_MS };
      this.windows.set(ip, window);
    }
    window.count += 1;
    if (window.count === AUDITED_PER_IP + 1) this.log.warn({ requestId, limit: AUDITED_PER_IP, windowSeconds: WINDOW_MS / 1000 }, 'refused protocol requests from one address: no longer audited in this window');
    return window.count <= AUDITED_PER_IP;
  }

  note(ctx: KoaContextWithOIDC, event: string, err: { error?: string; error_description?: string; error_detail?: string; status?: number }): void {
    const clientId = ctx.oidc?.client?.clientId;
    this.log.info({ requestId: ctx.state.requestId, event, error: err.error, description: err.error_description, clientId }, 'request rejected');
    if ((err.error && NOT_REFUSALS.has(err.error)) || !this.withinCap(ctx.ip, ctx.state.requestId)) return;
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
