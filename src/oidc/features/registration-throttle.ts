import type { Middleware } from 'koa';
import type { Logger } from '../../log.js';
import type { AuditLog } from '../../security/audit-log.js';
import type { RateCounter } from '../../security/rate-counter.js';

// Initial and registration access tokens are 256-bit random values, but each check is still a
// credential check: failures per IP are counted, and an IP that reaches the limit is locked out.
const MAX_FAILURES_PER_IP = 20;
const WINDOW_SECONDS = 900;
const LOCKOUT_SECONDS = 900;

/**
 * Rate limit on the registration endpoints (`/reg`, `/reg/:clientId`): an answer of 401 (no,
 * unknown or revoked token) counts as a failure for the caller's IP; at the limit the IP gets
 * 429 with Retry-After on every registration request for a while, and the lockout is audited.
 */
export function registrationThrottle(registrationPath: string, counter: RateCounter, audit: AuditLog, log: Logger): Middleware {
  const applies = (path: string) => path === registrationPath || path.startsWith(`${registrationPath}/`);
  return async (ctx, next) => {
    if (!applies(ctx.path)) return next();
    const failures = `reg-fail:ip:${ctx.ip}`;
    const lock = `lock:${failures}`;
    const [locked] = await counter.peek([lock]);
    if (locked && locked.count > 0) {
      ctx.status = 429;
      ctx.set('Retry-After', String(Math.max(1, Math.ceil((locked.resetAt - Date.now()) / 1000))));
      ctx.body = { error: 'invalid_request', error_description: 'too many failed registration requests from this address; retry later' };
      return;
    }
    await next();
    if (ctx.status !== 401) return;
    const { count } = await counter.hit(failures, WINDOW_SECONDS);
    if (count < MAX_FAILURES_PER_IP) return;
    await Promise.all([counter.hit(lock, LOCKOUT_SECONDS), counter.reset(failures)]);
    log.warn({ requestId: ctx.state.requestId, limit: MAX_FAILURES_PER_IP }, 'registration: address locked out after failed token checks');
    audit.note({ type: 'registration.locked_out', outcome: 'failure', ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined, details: { failures: count, lockout_seconds: LOCKOUT_SECONDS } });
  };
}
