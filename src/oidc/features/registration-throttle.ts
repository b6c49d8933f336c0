import type { Middleware } from 'koa';
import type { Logger } from '../../log.js';
import type { AuditLog } from '../../security/audit-log.js';
import { MissLimiter } from '../../security/miss-limiter.js';
import type { RateCounter } from '../../security/rate-counter.js';

// Initial and registration access tokens are 256-bit random values, but each check is still a
// credential check: wrong tokens are counted per IP, and an IP at the limit waits out the window.
const MAX_MISSES_PER_IP = 20;
const WINDOW_SECONDS = 900;

/**
 * Rate limit on the registration endpoints (`/reg`, `/reg/:clientId`): an answer of 401 (no,
 * unknown or revoked token) is a miss for the caller's IP; at the limit the IP gets 429 with
 * Retry-After on every registration request until the window ends, and the lockout is audited.
 */
export function registrationThrottle(registrationPath: string, counter: RateCounter, audit: AuditLog, log: Logger): Middleware {
  const misses = new MissLimiter(counter, 'registration', MAX_MISSES_PER_IP, WINDOW_SECONDS);
  const applies = (path: string) => path === registrationPath || path.startsWith(`${registrationPath}/`);
  return async (ctx, next) => {
    if (!applies(ctx.path)) return next();
    const wait = await misses.retryAfter(ctx.ip);
    if (wait) {
      ctx.status = 429;
      ctx.set('Retry-After', String(wait));
      ctx.body = { error: 'invalid_request', error_description: 'too many failed registration requests from this address; retry later' };
      return;
    }
    await next();
    if (ctx.status !== 401) return;
    await misses.miss(ctx.ip);
    // Refused from the next request on: this miss reached the limit.
    const lockout = await misses.retryAfter(ctx.ip);
    if (!lockout) return;
    log.warn({ requestId: ctx.state.requestId, limit: MAX_MISSES_PER_IP }, 'registration: address locked out after failed token checks');
    audit.note({ type: 'registration.locked_out', outcome: 'failure', ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined, details: { misses: MAX_MISSES_PER_IP, retry_after_seconds: lockout } });
  };
}
