import type { Context } from 'koa';
import type { AdapterPayload, ClientMetadata } from 'oidc-provider';
import type { z } from 'zod';
import type { Config } from '../../config/schema.js';
import type { AccountService } from '../accounts/accounts.js';
import type { ClientService } from '../accounts/clients.js';
import type { PasswordPolicy } from '../accounts/password-policy.js';
import type { InitialAccessTokens } from '../oidc/initial-access-tokens.js';
import type { FlowCatalogue } from '../interaction/flow-catalogue.js';
import type { Logger } from '../log.js';
import type { Storage } from '../oidc/adapter.js';
import type { SigningKeyStore } from '../oidc/signing-keys.js';
import type { AuditLog, AuditType } from '../security/audit-log.js';
import type { StepRegistry } from '../steps/registry.js';
import type { AdminPrincipal } from './bearer.js';
import type { AdminScope } from './resource.js';

export type Method = 'get' | 'post' | 'patch' | 'put' | 'delete';

/** An error answered as `{ error, error_description }` with its status. */
export class AdminHttpError extends Error {
  override name = 'AdminHttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new AdminHttpError(404, 'not_found', `no such ${what}`);

export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  principal: AdminPrincipal;
  ctx: Context;
}

export interface RouteResult {
  status: number;
  body?: unknown;
}

/**
 * One admin operation: how it is reached, what it needs, what it answers. The router and
 * the OpenAPI document are both built from these.
 */
export interface AdminRoute<P = unknown, Q = unknown, B = unknown> {
  method: Method;
  // OpenAPI form, relative to /admin/v1: /users/{id}
  path: string;
  summary: string;
  scope: AdminScope;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  // Success responses: status → description and schema (none for 204).
  responses: Record<number, { description: string; schema?: z.ZodType }>;
  // Expected failures beyond the authorisation and validation ones every route has.
  errors?: Record<number, string>;
  handle(input: RouteInput<P, Q, B>): Promise<RouteResult>;
}

/** Keeps the handler's input types tied to its schemas. */
export function route<P = undefined, Q = undefined, B = undefined>(def: AdminRoute<P, Q, B>): AdminRoute {
  return def as AdminRoute;
}

export interface AdminDeps {
  config: Config;
  accounts: AccountService;
  // Checked on every password set here (create, set-password): a refusal is a 400 with its reason.
  passwordPolicy: PasswordPolicy;
  clients: ClientService;
  initialAccessTokens: InitialAccessTokens;
  audit: AuditLog;
  keys: SigningKeyStore;
  steps: StepRegistry;
  // Revokes an account's sessions, grants and tokens when it is disabled or deleted.
  storage: Storage;
  // Tells back-channel logout clients about sessions ended here.
  announceEnded(sessions: AdapterPayload[]): Promise<void>;
  // Checks client metadata the way the provider will when it loads the client.
  validateClient(metadata: ClientMetadata): Promise<void>;
  // Makes this process sign with rotated keys at once (others follow within keysRefreshSeconds).
  reloadKeys(): Promise<unknown>;
  flows: FlowCatalogue;
  // Makes this process use changed flows (and advertise their acr values) at once; others follow within seconds.
  reloadFlows(): Promise<void>;
  log: Logger;
}

/** Audits an admin write: who did it (the admin client) and from where. */
export function auditAdmin(
  audit: AuditLog,
  input: { ctx: Context; principal: AdminPrincipal },
  event: { type: AuditType; subject?: string; clientId?: string; details?: Record<string, unknown> },
): Promise<void> {
  return audit.record({
    ...event,
    outcome: 'success',
    // Events about a client name that client; all others name the acting admin client.
    clientId: event.clientId ?? input.principal.clientId,
    ip: input.ctx.ip,
    userAgent: input.ctx.get('user-agent') || undefined,
    details: { via: 'admin-api', actor: input.principal.clientId, ...event.details },
  });
}
