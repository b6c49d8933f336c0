import type { Context, Next } from 'koa';
import type { Metrics } from './metrics.js';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * The route label: the pattern the router matched (Tessera's routers and oidc-provider's both
 * record it), never the raw path, so a label set per uid or client id cannot grow without bound.
 */
export function routeLabel(ctx: Context): string {
  const matched = (ctx as Context & { _matchedRoute?: unknown })._matchedRoute;
  if (typeof matched === 'string') return matched;
  if (ctx.path.startsWith('/static/')) return '/static/:file';
  return 'unmatched';
}

/** Times every request; errors thrown past it are counted with the status they end with. */
export function httpMetrics(metrics: Metrics) {
  return async (ctx: Context, next: Next) => {
    const end = metrics.httpRequests.startTimer();
    try {
      await next();
    } finally {
      end({ method: METHODS.has(ctx.method) ? ctx.method : 'other', route: routeLabel(ctx), status: String(ctx.status) });
    }
  };
}
