import Router from '@koa/router';
import type { Context } from 'koa';
import { isBodyRefusal, readBody, refuseBody } from '../http/form-body.js';
import type { Logger } from '../log.js';
import { MissLimiter } from '../security/miss-limiter.js';
import type { RateCounter } from '../security/rate-counter.js';
import type { RefusedSubmissions } from '../security/refused-submissions.js';
import type { DeviceCaptureSpec } from '../steps/step.js';
import type { StreamCredentials } from '../continuous/stream-credentials.js';
import { CONTINUOUS_PREFIX } from '../continuous/token-route.js';
import { normaliseCode, type DeviceCapture } from './device-capture.js';

export const CAPTURE_PREFIX = '/capture';

// Per IP: unknown or used codes (guessing) and posts of any kind (decoding costs CPU).
const WINDOW_SECONDS = 600;
const MAX_MISSES = 10;
const MAX_POSTS = 60;

export interface CaptureDeps {
  capture: DeviceCapture;
  /** Continuations for devices that may keep streaming after the sign-in, and how long one waits for it to finish. */
  continuations: { credentials: StreamCredentials; ttlSeconds: number };
  counter: RateCounter;
  // Audits payloads refused after the per-IP limits let the post through.
  refusals: RefusedSubmissions;
  /** What a code's `accepts` (a step id) takes from a device. */
  specFor(accepts: string): DeviceCaptureSpec | undefined;
  log: Logger;
}

/**
 * POST /capture/<code>: a device delivers a payload (the body, as is) for the sign-in or
 * enrollment that showed the code. No cookies and no CSRF token: the one-time code is the
 * credential, so guessing is rate-limited per IP. Answers JSON for the device.
 */
export function captureRouter(deps: CaptureDeps): Router {
  const router = new Router({ prefix: CAPTURE_PREFIX });
  const misses = new MissLimiter(deps.counter, 'capture', MAX_MISSES, WINDOW_SECONDS);

  function refuse(ctx: Context, retryAfterSeconds: number): never {
    ctx.set('Retry-After', String(retryAfterSeconds));
    return ctx.throw(429, 'too many capture attempts from this address; wait a few minutes');
  }

  /** The body, if the step could take it: declared type first (unread when wrong), then size and content. */
  async function payloadOf(ctx: Context, spec: DeviceCaptureSpec, contentType: string): Promise<Buffer> {
    const wrongType = spec.checkType(contentType);
    if (wrongType) refuseBody(ctx, 415, 'wrong_content_type', wrongType);
    const data = await readBody(ctx, spec.maxBytes, 'recording');
    if (data.length === 0) refuseBody(ctx, 400, 'empty_body', 'the request body is empty; send the recording as the body');
    const problem = spec.check(data);
    if (problem) refuseBody(ctx, 422, 'unusable_payload', problem);
    return data;
  }

  router.post('/:code', async (ctx) => {
    // Devices get JSON errors whatever they ask for.
    ctx.request.headers.accept = 'application/json';
    const posts = await deps.counter.hit(`capture:post:${ctx.ip}`, WINDOW_SECONDS);
    if (posts.count > MAX_POSTS) refuse(ctx, Math.max(1, Math.ceil((posts.resetAt - Date.now()) / 1000)));
    const wait = await misses.retryAfter(ctx.ip);
    if (wait) refuse(ctx, wait);
    const binding = await deps.capture.find(normaliseCode(String(ctx.params.code)));
    const spec = binding && deps.specFor(binding.accepts);
    if (!binding || !spec || binding.consumed) {
      await misses.miss(ctx.ip);
      if (binding?.consumed) return ctx.throw(410, 'this code has already been used; ask the page for a new one');
      return ctx.throw(404, 'unknown or expired code; check it, or reload the page for a new one');
    }
    const contentType = ctx.get('content-type') || 'application/octet-stream';
    // Refused before delivery, so the code stays usable for the device to send what the step takes.
    let data: Buffer;
    try {
      data = await deps.refusals.audited(ctx, { step: binding.accepts }, () => payloadOf(ctx, spec, contentType));
    } catch (err) {
      if (isBodyRefusal(err)) deps.log.info({ requestId: ctx.state.requestId, accepts: binding.accepts, status: err.status, reason: err.reason, problem: err.message }, 'capture refused');
      throw err;
    }
    if (!(await deps.capture.claim(binding))) ctx.throw(410, 'this code has already been used; ask the page for a new one');
    const continuation = binding.continuable ? await deps.continuations.credentials.issueContinuation(deps.continuations.ttlSeconds) : undefined;
    await deps.capture.deliver(binding, data, contentType, continuation?.id);
    ctx.status = 202;
    // The continuation is the device's alone: with it, and only once the sign-in is done, it gets stream tokens.
    ctx.body = { status: 'received', bytes: data.length, ...(continuation ? { continuation: continuation.secret, token_endpoint: `${CONTINUOUS_PREFIX}/token` } : {}) };
  });

  return router;
}
