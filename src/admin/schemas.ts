import { z } from 'zod';
import { requirementSchema } from '../../config/schema.js';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../accounts/accounts.js';
import { DEVICE_CODE_GRANT } from '../oidc/features/device-flow.js';
import { DEFAULT_INITIAL_ACCESS_TOKEN_SECONDS } from '../oidc/initial-access-tokens.js';
import { SIGNING_ALGS } from '../oidc/signing-keys.js';

// Request and response shapes of the admin API. Requests are validated with these; the
// OpenAPI document is generated from them, so the two cannot drift apart.

const epochMs = z.number().int().describe('milliseconds since the epoch');
const password = z.string().min(MIN_PASSWORD_LENGTH).max(MAX_PASSWORD_LENGTH);
const absoluteUrl = z.string().refine((v) => URL.canParse(v), { message: 'must be an absolute URL' });

export const errorBody = z.strictObject({ error: z.string(), error_description: z.string() });

export const userId = z.strictObject({ id: z.string().min(1).max(64) });
export const clientIdParam = z.strictObject({ clientId: z.string().min(1).max(128) });
export const enrollmentParams = z.strictObject({ id: z.string().min(1).max(64), step: z.string().min(1).max(64) });
export const credentialParams = enrollmentParams.extend({ credential: z.string().min(1).max(64) });

export const user = z.strictObject({
  id: z.string(),
  username: z.string(),
  email: z.string().optional(),
  emailVerified: z.boolean(),
  name: z.string().optional(),
  disabled: z.boolean(),
  createdAt: epochMs,
  updatedAt: epochMs,
});
export const userQuery = z.strictObject({
  usernamePrefix: z.string().min(1).max(128).optional().describe('only usernames starting with this (case-insensitive)'),
  disabled: z.enum(['true', 'false']).transform((v) => v === 'true').optional().describe('only disabled (true) or enabled (false) users'),
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,200}$/, { message: 'must be a nextCursor value from a previous page' })
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export const userList = z.strictObject({
  users: z.array(user).describe('ordered by username'),
  nextCursor: z.string().nullable().describe('pass as cursor for the next page; null on the last page'),
});

export const newUser = z.strictObject({
  username: z.string().min(1).max(128),
  email: z.email().max(320).optional(),
  emailVerified: z.boolean().optional(),
  name: z.string().max(256).optional(),
  password: password.optional().describe('sets a password; without one the user cannot sign in until it is set'),
});

export const userChanges = z
  .strictObject({
    email: z.email().max(320).nullable().optional().describe('null clears it'),
    emailVerified: z.boolean().optional(),
    name: z.string().max(256).nullable().optional().describe('null clears it'),
    disabled: z.boolean().optional(),
  })
  .refine((c) => Object.keys(c).length > 0, { message: 'give at least one of email, emailVerified, name, disabled' });

export const newPassword = z.strictObject({ password });

// Client metadata as registered (RFC 7591 names); the secret is never part of it.
const clientMetadata = z.looseObject({
  client_id: z.string(),
  client_secret: z.never().optional(),
  token_endpoint_auth_method: z.string(),
  grant_types: z.array(z.string()),
  redirect_uris: z.array(z.string()),
});

export const client = z.strictObject({
  clientId: z.string(),
  metadata: clientMetadata,
  hasSecret: z.boolean(),
  selfRegistered: z.boolean().describe('created through the registration endpoint (RFC 7591) with an initial access token'),
  createdAt: epochMs,
});
export const clientList = z.strictObject({ clients: z.array(client) });
export const createdClient = z.strictObject({
  client,
  clientSecret: z.string().optional().describe('shown only in this response; absent for clients without a shared secret'),
});
export const rotatedSecret = z.strictObject({ clientId: z.string(), clientSecret: z.string().describe('shown only in this response') });

// Grant types a client may be registered for; the device code grant only while TESSERA_DEVICE_FLOW is on.
const grantTypes = z
  .array(z.enum(['authorization_code', 'refresh_token', 'client_credentials', DEVICE_CODE_GRANT]))
  .min(1)
  .describe(`${DEVICE_CODE_GRANT} (RFC 8628) only while the device flow is switched on (TESSERA_DEVICE_FLOW)`);

const jwks = z.strictObject({ keys: z.array(z.record(z.string(), z.unknown())).min(1) });

// Per-client protocol requirements, settable at creation and later.
const protocolOptions = {
  requirePushedAuthorizationRequests: z.boolean().optional().describe('authorization requests only through PAR (metadata require_pushed_authorization_requests, RFC 9126)'),
  dpopBoundAccessTokens: z.boolean().optional().describe('access tokens only DPoP-bound (metadata dpop_bound_access_tokens, RFC 9449)'),
  requireSignedRequestObject: z.boolean().optional().describe('authorization requests only as a request object signed with the client key (metadata require_signed_request_object, RFC 9101)'),
};

export const newClient = z.strictObject({
  clientId: z.string().optional(),
  name: z.string().min(1).max(256),
  redirectUris: z.array(absoluteUrl).optional(),
  postLogoutRedirectUris: z.array(absoluteUrl).optional(),
  grantTypes: grantTypes.optional(),
  authMethod: z.enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none']).optional(),
  jwksUri: absoluteUrl.optional(),
  jwks: jwks.optional(),
  scope: z.string().max(1024).optional(),
  backchannelLogoutUri: absoluteUrl.optional(),
  firstParty: z.boolean().optional(),
  flow: z.string().min(1).max(64).optional().describe('the flow its sign-ins follow unless the request names an acr (metadata tessera_flow)'),
  ...protocolOptions,
});

export const clientChanges = z
  .strictObject({
    name: z.string().min(1).max(256).nullable().optional().describe('null clears it'),
    redirectUris: z.array(absoluteUrl).optional(),
    postLogoutRedirectUris: z.array(absoluteUrl).optional(),
    scope: z.string().max(1024).nullable().optional().describe('null clears it (any supported scope is then allowed)'),
    backchannelLogoutUri: absoluteUrl.nullable().optional().describe('null clears it'),
    firstParty: z.boolean().optional(),
    flow: z.string().min(1).max(64).nullable().optional().describe('null returns the client to the default flow'),
    grantTypes: grantTypes.optional(),
    ...protocolOptions,
    jwks: jwks.optional().describe("replaces the client's public keys (and any jwksUri): key rotation for private_key_jwt"),
    jwksUri: absoluteUrl.optional().describe('replaces the keys with ones fetched from this URL (and drops any jwks)'),
  })
  .refine((c) => Object.keys(c).length > 0, { message: 'give at least one setting to change' });

export const initialAccessTokenId = z.strictObject({ id: z.string().min(1).max(32) });
export const initialAccessToken = z.strictObject({
  id: z.string(),
  policies: z.array(z.string()).describe('registration policies (config registrationPolicies) applied to what it registers'),
  description: z.string().optional(),
  createdAt: epochMs,
  expiresAt: epochMs,
  revokedAt: epochMs.optional(),
});
export const initialAccessTokenList = z.strictObject({ initialAccessTokens: z.array(initialAccessToken) });
export const newInitialAccessToken = z.strictObject({
  policies: z.array(z.string().min(1).max(64)).max(16).optional().describe('names of configured registration policies'),
  description: z.string().min(1).max(256).optional(),
  expiresInSeconds: z.number().int().min(60).max(365 * 24 * 3600).optional().describe(`default ${DEFAULT_INITIAL_ACCESS_TOKEN_SECONDS} (7 days)`),
});
export const createdInitialAccessToken = z.strictObject({
  initialAccessToken,
  value: z.string().describe('the bearer token for POST /reg; shown only in this response, only its hash is kept'),
});

export const enrollmentList = z.strictObject({
  userId: z.string(),
  enrollments: z.array(
    z.strictObject({
      step: z.string(),
      amr: z.string(),
      enrolled: z.boolean(),
      removable: z.boolean().describe('whether DELETE /users/{id}/enrollments/{step} applies'),
      credentials: z
        .array(z.strictObject({ id: z.string(), name: z.string(), kind: z.string().optional(), createdAt: z.number().describe('epoch ms'), lastUsedAt: z.number().optional().describe('epoch ms') }))
        .optional()
        .describe('for a step holding several credentials per user (passkey): each of them, removable on its own'),
    }),
  ),
});

export const auditQuery = z.strictObject({
  subject: z.string().max(128).optional(),
  clientId: z.string().max(128).optional(),
  type: z.string().max(64).optional(),
  from: z.coerce.number().int().nonnegative().optional().describe('epoch ms, inclusive'),
  to: z.coerce.number().int().nonnegative().optional().describe('epoch ms, inclusive'),
  cursor: z
    .string()
    .regex(/^[1-9][0-9]{0,15}$/, { message: 'must be a nextCursor value from a previous page' })
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const auditEvent = z.strictObject({
  id: z.number().int(),
  at: epochMs,
  type: z.string(),
  outcome: z.enum(['success', 'failure']),
  subject: z.string().optional(),
  clientId: z.string().optional(),
  ip: z.string().optional(),
  userAgent: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export const auditPage = z.strictObject({
  events: z.array(auditEvent),
  nextCursor: z.string().nullable().describe('pass as cursor for the next (older) page; null on the last page'),
});

export const signingKey = z.strictObject({
  kid: z.string(),
  alg: z.enum(SIGNING_ALGS),
  state: z.enum(['current', 'next', 'retired']),
  createdAt: epochMs,
  activatedAt: epochMs.optional(),
  retiredAt: epochMs.optional(),
  retireUntil: epochMs.optional(),
});
export const keyList = z.strictObject({ keys: z.array(signingKey) });
export const rotation = z.strictObject({
  algs: z.array(z.enum(SIGNING_ALGS)).min(1).optional().describe('default: every algorithm'),
  force: z.boolean().optional().describe('rotate even if the next key has been published for less than the configured lead'),
});
export const rotated = z.strictObject({
  rotated: z.array(z.strictObject({ alg: z.enum(SIGNING_ALGS), retired: z.string(), promoted: z.string() })),
});

export const flowName = z.strictObject({ name: z.string().min(1).max(64) });
const acrValue = z.string().min(1).max(256).regex(/^\S+$/, { message: 'must not contain spaces' });
const flowSettings = {
  requirements: z.array(requirementSchema).min(1).max(16).describe('in order: each { "step": id }, { "anyOf": [ids], "count": n } or { "fuse": [ids], "far": target false-accept rate } (biometric steps with calibrated scores, one decision on their summed LLRs)'),
  enrollAtLogin: z.boolean().optional().describe('whether a user may set up a missing step during sign-in (default false)'),
  acrValues: z.array(acrValue).max(16).optional().describe('acr values that select this flow; advertised in acr_values_supported'),
};
export const flowSettingsBody = z.strictObject(flowSettings);
export const newFlow = z.strictObject({ name: flowName.shape.name, ...flowSettings });

export const flow = z.strictObject({
  name: z.string(),
  source: z.enum(['config', 'admin']).describe('config: from the config file, read-only here; admin: defined through this API or the CLI'),
  requirements: z.array(requirementSchema),
  enrollAtLogin: z.boolean(),
  acrValues: z.array(z.string()),
  createdAt: epochMs.optional(),
  updatedAt: epochMs.optional(),
  problems: z.array(z.string()).optional().describe('present when a stored flow is not in use, with the reasons'),
});
export const flowList = z.strictObject({ flows: z.array(flow) });

type Issue = z.core.$ZodIssue;

/**
 * An issue as the messages a person can act on. A value matching no option of a union (a flow
 * requirement, say) is described by the one option whose keys it has, when exactly one has them,
 * instead of zod's bare "Invalid input".
 */
function explained(issue: Issue, path: readonly PropertyKey[]): { path: PropertyKey[]; message: string }[] {
  const at = [...path, ...issue.path];
  if (issue.code === 'invalid_union') {
    const fitting = issue.errors.filter((option) => !option.some((i) => i.code === 'unrecognized_keys' || (i.code === 'invalid_type' && i.path.length === 0)));
    if (fitting.length === 1) return fitting[0]!.flatMap((i) => explained(i, at));
  }
  return [{ path: at, message: issue.message }];
}

/** Zod issues as one message naming each field (`body.requirements.0.step: …`). */
export function describeIssues(error: z.ZodError, where: string): string {
  return error.issues
    .flatMap((i) => explained(i, []))
    .map((i) => `${[where, ...i.path.map(String)].join('.')}: ${i.message}`)
    .join('; ');
}
