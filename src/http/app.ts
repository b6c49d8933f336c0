import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type Router from '@koa/router';
import Koa, { type Context, type Next } from 'koa';
import compose from 'koa-compose';
import type Provider from 'oidc-provider';
import type { Logger } from '../log.js';
import { httpMetrics } from '../metrics/http-metrics.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ProviderHost } from '../oidc/provider-host.js';
import { packageFile } from '../paths.js';
import { baseSecurityHeaders } from '../security/headers.js';
import type { Views } from './views.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

function requestIds(log: Logger) {
  return async (ctx: Context, next: Next) => {
    const given = ctx.get('x-request-id');
    const requestId = REQUEST_ID.test(given) ? given : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      // The path only: query strings can carry codes, tokens and hints.
      log.info(
        { requestId, method: ctx.method, path: ctx.path, status: ctx.status, ms: Number(process.hrtime.bigint() - started) / 1e6 },
        'request',
      );
    }
  };
}

const STATIC_TYPES: Record<string, string> = { '.css': 'text/css', '.js': 'text/javascript' };

// Browser libraries the pages load, served from their installed packages (no CDN).
const VENDOR_SCRIPTS: Record<string, string> = {
  'simplewebauthn-browser.js': packageFile('@simplewebauthn/browser', 'dist/bundle/index.umd.min.js'),
};

/** The page assets (views/static: stylesheet, page scripts, and the vendor scripts), read once at start-up. */
function staticAssets(dir: string): Map<string, { type: string; body: Buffer }> {
  const assets = new Map<string, { type: string; body: Buffer }>();
  for (const file of readdirSync(dir)) {
    const type = STATIC_TYPES[extname(file)];
    if (type) assets.set(file, { type, body: readFileSync(join(dir, file)) });
  }
  for (const [name, path] of Object.entries(VENDOR_SCRIPTS)) assets.set(name, { type: STATIC_TYPES['.js']!, body: readFileSync(path) });
  return assets;
}

const expired = (err: { name?: string }) => err.name === 'SessionNotFound';

/** One place turns errors from Tessera's own routes into readable pages or JSON. */
function errors(views: Views, log: Logger) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (caught) {
      const err = caught as Error & { status?: number; expose?: boolean };
      const status = expired(err) ? 400 : (err.status ?? 500);
      const message = expired(err)
        ? 'This sign-in has expired or was opened in another browser. Return to the application and start again.'
        : status < 500 && err.expose !== false
          ? err.message
          : 'An unexpected error occurred. Please try again later.';
      if (status >= 500) log.error({ requestId: ctx.state.requestId, err }, 'request failed');
      else log.info({ requestId: ctx.state.requestId, status, error: err.message }, 'request rejected');
      if (ctx.accepts('html', 'json') === 'json') {
        ctx.status = status;
        ctx.body = { error: status >= 500 ? 'server_error' : 'invalid_request', error_description: message };
      } else {
        const heading = status >= 500 ? 'Something went wrong on our side' : 'This request cannot be completed';
        views.render(ctx, 'error', { title: heading, heading, message, requestId: ctx.state.requestId }, status);
      }
    }
  };
}

/** Runs the live provider's middleware (swapped on key rotation) as the last handler. */
function providerMount(host: ProviderHost) {
  const composed = new WeakMap<Provider, compose.ComposedMiddleware<Context>>();
  return (ctx: Context, next: Next) => {
    const provider = host.current;
    let run = composed.get(provider);
    if (!run) {
      run = compose(provider.middleware as compose.Middleware<Context>[]);
      composed.set(provider, run);
    }
    return run(ctx, next);
  };
}

export interface AppDeps {
  host: ProviderHost;
  views: Views;
  log: Logger;
  trustProxy: boolean;
  cookieKeys: string[];
  metrics?: Metrics;
  // Each router with the path prefixes it serves, so protocol requests skip route matching.
  routers: { prefixes: string[]; router: Router }[];
}

export function createApp(deps: AppDeps): Koa {
  const app = new Koa({ proxy: deps.trustProxy, keys: deps.cookieKeys });
  // Koa would print every thrown error; ours are logged once, with the request id.
  app.silent = true;
  const assets = staticAssets(join(deps.views.dir, 'static'));
  if (deps.metrics) app.use(httpMetrics(deps.metrics));
  app.use(requestIds(deps.log));
  app.use(async (ctx, next) => {
    baseSecurityHeaders(ctx);
    await next();
  });
  app.use(errors(deps.views, deps.log));
  app.use(async (ctx, next) => {
    const asset = ctx.path.startsWith('/static/') ? assets.get(ctx.path.slice('/static/'.length)) : undefined;
    if (!asset || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    ctx.type = asset.type;
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = asset.body;
  });
  for (const { prefixes, router } of deps.routers) {
    const handle = compose([router.routes(), router.allowedMethods()] as compose.Middleware<Context>[]);
    app.use((ctx, next) => (prefixes.some((p) => ctx.path.startsWith(p)) ? handle(ctx, next) : next()));
  }
  app.use(providerMount(deps.host));
  return app;
}
