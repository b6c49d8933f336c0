import Router from '@koa/router';
import type { Context } from 'koa';
import { readForm } from '../http/form-body.js';
import type { MissLimiter } from '../security/miss-limiter.js';
import type { SessionMonitor } from './session-monitor.js';
import type { StreamCredentials } from './stream-credentials.js';

export const CONTINUOUS_PREFIX = '/continuous';

export interface TokenRouteDeps {
  credentials: StreamCredentials;
  monitor: SessionMonitor;
  misses: MissLimiter;
  /** The WebSocket URL of a session's stream. */
  streamUrl(sessionUid: string): string;
}

/** An OAuth-shaped error for the device (RFC 6749 §5.2 style), with the status it goes with. */
function fail(ctx: Context, status: number, error: string, description: string, extra: Record<string, unknown> = {}) {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { error, error_description: description, ...extra };
}

/**
 * POST /continuous/token (form: `continuation=<secret>`, as OAuth token requests): the device that delivered a
 * sign-in's recording exchanges the continuation it got for a stream token, once the sign-in has
 * made a monitored session; until then `authorization_pending` (poll every `interval` seconds,
 * as in RFC 8628). Unknown or ended continuations are wrong guesses, limited per IP.
 */
export function tokenRouter(deps: TokenRouteDeps): Router {
  const router = new Router({ prefix: CONTINUOUS_PREFIX });

  router.post('/token', async (ctx) => {
    ctx.request.headers.accept = 'application/json';
    const wait = await deps.misses.retryAfter(ctx.ip);
    if (wait) {
      ctx.set('Retry-After', String(wait));
      return fail(ctx, 429, 'slow_down', 'too many unknown continuations from this address; wait a few minutes');
    }
    const body = await readForm(ctx);
    const secret = typeof body.continuation === 'string' ? body.continuation : '';
    if (!/^[A-Za-z0-9_-]{43}$/.test(secret)) return fail(ctx, 400, 'invalid_request', 'continuation is missing or malformed: send the value the capture answer gave');
    const continuation = await deps.credentials.continuation(secret);
    if (continuation?.state === 'pending') return fail(ctx, 400, 'authorization_pending', 'the sign-in has not finished yet', { interval: 1 });
    const session = continuation ? await deps.monitor.live(continuation.sessionUid) : undefined;
    if (!session) {
      await deps.misses.miss(ctx.ip);
      return fail(ctx, 400, 'invalid_grant', 'unknown continuation, or its session has ended or is not monitored');
    }
    const token = await deps.credentials.issueToken(session.continuationId, session.sessionUid);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { token, token_type: 'stream', expires_in: deps.credentials.tokenTtlSeconds, stream_url: deps.streamUrl(session.sessionUid) };
  });

  return router;
}
