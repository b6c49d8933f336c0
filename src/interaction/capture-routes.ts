import Router from '@koa/router';
import type { Context } from 'koa';
import { isBodyRefusal, readBody, refuseBody } from '../http/form-body.js';
import type { Logger } from '../log.js';
import type { RateCounter } from '../security/rate-counter.js';
import type { RefusedSubmissions } from '../security/refused-submissions.js';
import type { DeviceCaptureSpec } from '../steps/step.js';
import { normaliseCode, type DeviceCapture } from './device-capture.js';

export const CAPTURE_PREFIX = '/capture';

// Per IP: unknown or used codes (guessing) and posts of any kind (decoding costs CPU).
const WINDOW_SECONDS = 600;
const MAX_MISSES = 10;
const MAX_POSTS = 60;

export interface CaptureDeps {
  capture: DeviceCapture;
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

  function refuse(ctx: Context, resetAt: number): never {
    ctx.set('Retry-After', String(Math.max(1, Math.ceil((resetAt - Date.now()) / 1000))));
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
    if (posts.count > MAX_POSTS) refuse(ctx, posts.resetAt);
    const [misses] = await deps.counter.peek([`capture:miss:${ctx.ip}`]);
    if (misses && misses.count >= MAX_MISSES) refuse(ctx, misses.resetAt);
    const binding = await deps.capture.find(normaliseCode(String(ctx.params.code)));
    const spec = binding && deps.specFor(binding.accepts);
    if (!binding || !spec || binding.consumed) {
      await deps.counter.hit(`capture:miss:${ctx.ip}`, WINDOW_SECONDS);
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
    if (!(await deps.capture.deliver(binding, data, contentType))) {
      ctx.throw(410, 'this code has already been used; ask the page for a new one');
    }
    ctx.status = 202;
    ctx.body = { status: 'received', bytes: data.length };
  });

  return router;
}
