import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { errors as oidcErrors } from 'oidc-provider';
import type { z } from 'zod';
import { InputError } from '../accounts/input-error.js';
import { KeyRotationError } from '../oidc/signing-keys.js';
import { auditRoutes } from './audit-events.js';
import { AdminBearer, BearerError } from './bearer.js';
import { clientRoutes } from './clients.js';
import { enrollmentRoutes } from './enrollments.js';
import { flowRoutes } from './flows.js';
import { initialAccessTokenRoutes } from './initial-access-tokens.js';
import { keyRoutes } from './keys.js';
import { openApiDocument } from './openapi.js';
import { adminIndicator } from './resource.js';
import { describeIssues } from './schemas.js';
import { AdminHttpError, type AdminDeps, type AdminRoute } from './route.js';
import { userRoutes } from './users.js';

export const ADMIN_PREFIX = '/admin/v1';
const BODY_LIMIT_BYTES = 64 * 1024;

export const adminRoutes = (deps: AdminDeps): AdminRoute[] => [
  ...userRoutes(deps),
  ...enrollmentRoutes(deps),
  ...clientRoutes(deps),
  ...initialAccessTokenRoutes(deps),
  ...flowRoutes(deps),
  ...auditRoutes(deps),
  ...keyRoutes(deps),
];

async function readJson(ctx: Context): Promise<unknown> {
  if (!ctx.is('application/json')) throw new AdminHttpError(415, 'invalid_request', 'the body must be application/json');
  if (Number(ctx.get('content-length') || 0) > BODY_LIMIT_BYTES) throw new AdminHttpError(413, 'invalid_request', 'body too large');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_LIMIT_BYTES) throw new AdminHttpError(413, 'invalid_request', 'body too large');
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new AdminHttpError(400, 'invalid_request', 'the body is not valid JSON');
  }
}

/** Parses one part of the request; the message names each offending field (e.g. `body.username`). */
function validate<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T {
  if (!schema) return undefined as T;
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new AdminHttpError(400, 'invalid_request', describeIssues(parsed.error, where));
}

/** Domain errors and authorisation failures become RFC 6750 / OAuth-style JSON errors. */
function errorsAsJson(deps: AdminDeps) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (caught) {
      const err = caught as Error;
      let status = 500;
      let code = 'server_error';
      let message = 'an unexpected error occurred';
      if (err instanceof BearerError) {
        ctx.set('WWW-Authenticate', err.challenge());
        [status, code, message] = [err.status, err.code ?? 'unauthorized', err.message];
      } else if (err instanceof AdminHttpError) {
        [status, code, message] = [err.status, err.code, err.message];
      } else if (err instanceof InputError) {
        [status, code, message] = err.kind === 'conflict' ? [409, 'conflict', err.message] : [400, 'invalid_request', err.message];
      } else if (err instanceof oidcErrors.InvalidClientMetadata) {
        [status, code, message] = [400, 'invalid_client_metadata', err.error_description ?? err.message];
      } else if (err instanceof KeyRotationError) {
        [status, code, message] = [409, 'conflict', err.message];
      } else {
        deps.log.error({ requestId: ctx.state.requestId, err }, 'admin request failed');
      }
      if (status < 500) deps.log.info({ requestId: ctx.state.requestId, status, error: message }, 'admin request rejected');
      ctx.status = status;
      ctx.body = { error: code, error_description: message };
    }
  };
}

/** The admin REST API (a resource server for `<issuer>/admin/v1` tokens) and its OpenAPI document. */
export function adminRouter(deps: AdminDeps): Router {
  const bearer = new AdminBearer(deps.keys, deps.config.issuer, adminIndicator(deps.config));
  const routes = adminRoutes({
    ...deps,
    async reloadKeys() {
      await deps.reloadKeys();
      bearer.forget();
    },
  });
  const document = openApiDocument(routes, deps.config.issuer);
  const router = new Router({ prefix: ADMIN_PREFIX });
  router.use(errorsAsJson(deps));
  router.use(async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    await next();
  });
  router.get('/openapi.json', (ctx) => {
    ctx.body = document;
  });
  for (const r of routes) {
    router[r.method](r.path.replace(/\{(\w+)\}/g, ':$1'), async (ctx) => {
      const principal = await bearer.authorise(ctx.get('authorization') || undefined, r.scope);
      // A deleted admin client loses access at once, not when its token expires.
      if (!(await deps.clients.get(principal.clientId))) throw new BearerError(401, 'invalid_token', 'the client of this token no longer exists', r.scope);
      const params = validate(r.params, ctx.params, 'path');
      const query = validate(r.query, ctx.query, 'query');
      const body = validate(r.body, r.body ? await readJson(ctx) : undefined, 'body');
      const result = await r.handle({ params, query, body, principal, ctx });
      ctx.status = result.status;
      if (result.body !== undefined) ctx.body = result.body;
    });
  }
  router.all('/{*rest}', () => {
    throw new AdminHttpError(404, 'not_found', 'no such admin API route');
  });
  return router;
}
