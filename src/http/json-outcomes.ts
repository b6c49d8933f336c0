import type { Context, Middleware } from 'koa';

/** A refused submission, as steps and enrollments report it. */
export interface Refused {
  status: number;
  message: string;
  retryAfterSeconds?: number;
}

/**
 * Step submissions from scripts and devices (Accept: application/json) get the outcome as data:
 * `{ok: false, status, message}`, or `{ok: true, next}` with the page to go to next. Handlers
 * stay HTML-shaped (redirect on success, render the page again on refusal); `page` is where a
 * client goes back to when the handler rendered some other page instead (the sign-in, the set-up).
 */
export function jsonOutcomes(page: (ctx: Context) => string): Middleware {
  return async (ctx, next) => {
    if (ctx.accepts('html', 'json') !== 'json') return next();
    ctx.state.json = true;
    try {
      await next();
    } catch (caught) {
      const err = caught as Error & { status?: number; expose?: boolean };
      const status = err.status ?? 500;
      if (status >= 500 || err.expose === false || err.name === 'SessionNotFound') throw err;
      ctx.status = status;
      ctx.body = { ok: false, status, message: err.message };
      return;
    }
    if (typeof ctx.body === 'object' && ctx.body !== null && 'ok' in ctx.body) return;
    // Otherwise the handler redirected (on to the next page) or rendered a page: point the client there.
    const here = page(ctx);
    const location = ctx.response.get('Location');
    ctx.remove('Location');
    if (ctx.status < 400) {
      ctx.status = 200;
      ctx.body = { ok: true, next: location || here };
    } else {
      ctx.body = { ok: false, status: ctx.status, message: ctx.state.message ?? 'This cannot continue here. Open the page again.', next: here };
    }
  };
}

/** A refused submission: the page again with the message, or the message as JSON. */
export function refusal(ctx: Context, outcome: Refused, page: () => Promise<void>) {
  if (outcome.retryAfterSeconds) ctx.set('Retry-After', String(outcome.retryAfterSeconds));
  if (!ctx.state.json) return page();
  ctx.status = outcome.status;
  ctx.body = { ok: false, status: outcome.status, message: outcome.message };
}

/** A page to show once after a success (recovery codes, say), or its data as JSON with where to go on. */
export function showOnce(ctx: Context, show: { view: string; data: Record<string, unknown> }, continueTo: string, render: (view: string, data: Record<string, unknown>) => void) {
  if (ctx.state.json) ctx.body = { ok: true, next: continueTo, show: show.data };
  else render(show.view, { ...show.data, continueTo });
}
