import type { JsonWebKey } from 'node:crypto';
import Provider, { errors, interactionPolicy, type Configuration, type KoaContextWithOIDC, type ClientMetadata, type JWKS } from 'oidc-provider';
import type { Middleware } from 'koa';
import type { Config, ResourceServerConfig } from '../../config/schema.js';
import type { AccountService } from '../accounts/accounts.js';
import type { Views } from '../http/views.js';
import { accountClient } from '../account/account-client.js';
import { SELF_REGISTERED } from '../accounts/clients.js';
import { adminIndicator, adminResourceServer } from '../admin/resource.js';
import type { FlowPolicy } from '../interaction/flow-policy.js';
import { MONITOR_RESULT } from '../interaction/progress.js';
import type { Storage } from './adapter.js';
import type { DeviceFlow } from './features/device-flow.js';
import { dpop } from './features/dpop.js';
import { pushedAuthorizationRequests } from './features/pushed-authorization-requests.js';
import { isSelfService, registration, registrationManagement } from './features/registration.js';
import { requestObjects } from './features/request-objects.js';

const STANDARD_SCOPES = ['openid', 'offline_access', 'profile', 'email'];

export interface ProviderDeps {
  config: Config;
  // The live flows (config file and admin API): acr values to advertise, names clients may pick.
  flows: Pick<FlowPolicy, 'acrValues' | 'has' | 'names'>;
  // Whether the session's completed steps (and its monitoring, for a monitoring flow) already meet one of the requested acr values.
  stepUpNeeded(acrValues: string[], amr: string[], accountId: string, sessionUid: string | undefined): Promise<boolean>;
  storage: Storage;
  accounts: AccountService;
  views: Views;
  cookieKeys: string[];
  // Derived from the master key: every process issues and accepts the same DPoP server nonces.
  dpopNonceSecret: Buffer;
  // Counts failed token checks on the registration endpoints per IP (when registration is on).
  registrationThrottle: Middleware;
  // The live `tessera_continuous` claim of a monitored session (continuous authentication), for userinfo and introspection.
  continuousClaim(sessionUid: string | undefined): Promise<object | undefined>;
  // Whether the session was monitored and has ended (checking its silence now): its refresh tokens then fail.
  monitoringEnded(sessionUid: string): Promise<boolean>;
  // The device authorization grant (RFC 8628), when switched on.
  deviceFlow: DeviceFlow;
}

// The documented claim of a monitored session's running confidence (README, Continuous authentication).
export const CONTINUOUS_CLAIM = 'tessera_continuous';

const isFirstParty = (client: { metadata(): ClientMetadata } | undefined) => client?.metadata().tessera_first_party === true;

function resourceServerInfo(rs: ResourceServerConfig) {
  return {
    scope: rs.scope,
    audience: rs.audience ?? rs.indicator,
    accessTokenTTL: rs.accessTokenTTL,
    ...(rs.accessTokenFormat === 'jwt'
      ? { accessTokenFormat: 'jwt' as const, jwt: { sign: { alg: rs.signingAlg } } }
      : { accessTokenFormat: 'opaque' as const }),
  };
}

/**
 * First-party clients skip consent: their grant is created (or widened) to cover exactly
 * what was requested. Everyone else gets the grant the consent page saved.
 */
async function loadExistingGrant(ctx: KoaContextWithOIDC) {
  const { oidc } = ctx;
  const client = oidc.client!;
  const session = oidc.session!;
  const grantId = oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
  const existing = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  if (!isFirstParty(client)) return existing;
  const grant = existing ?? new oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId! });
  const scopes = [...oidc.requestParamOIDCScopes];
  const claims = [...oidc.requestParamClaims];
  const resources = Object.entries(oidc.resourceServers ?? {}).map(([indicator, server]) => ({
    indicator,
    scopes: [...oidc.requestParamScopes].filter((s) => server.scopes.has(s)),
  }));
  const covered =
    existing &&
    grant.getOIDCScopeFiltered(new Set(scopes)).split(' ').filter(Boolean).length === scopes.length &&
    grant.getOIDCClaimsFiltered(new Set(claims)).length === claims.length &&
    resources.every((r) => grant.getResourceScopeFiltered(r.indicator, new Set(r.scopes)).split(' ').filter(Boolean).length === r.scopes.length);
  // A returning user's grant usually covers the request already: skip the write.
  if (covered) return grant;
  grant.addOIDCScope(scopes.join(' '));
  if (claims.length) grant.addOIDCClaims(claims);
  for (const r of resources) if (r.scopes.length) grant.addResourceScope(r.indicator, r.scopes.join(' '));
  await grant.save();
  return grant;
}

/**
 * The default prompts plus step-up: a session that lacks the steps a requested acr_values
 * value needs goes back to the login prompt, where only the missing steps are asked.
 * (Essential acr requests are already checked by oidc-provider itself.)
 */
function loginPolicy(deps: ProviderDeps) {
  const policy = interactionPolicy.base();
  policy.get('login')!.checks.add(
    new interactionPolicy.Check('acr_step_up', 'the session does not meet the requested assurance', async (ctx) => {
      const { oidc } = ctx;
      const requested = typeof oidc.params?.acr_values === 'string' ? oidc.params.acr_values.split(' ').filter(Boolean) : [];
      const accountId = oidc.session?.accountId;
      if (!requested.length || !accountId) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      // A sign-in that has just started the session's monitoring counts as monitored (it begins once this authorization succeeds).
      if (oidc.result?.[MONITOR_RESULT]) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      return deps.stepUpNeeded(requested, oidc.session?.amr ?? [], accountId, oidc.session?.uid);
    }),
  );
  return policy;
}

export function buildProvider(deps: ProviderDeps, jwks: JsonWebKey[]): Provider {
  const { config, accounts, views, flows } = deps;
  const allResourceServers = [...config.resourceServers, adminResourceServer(config)];
  const resourceServers = new Map(allResourceServers.map((rs) => [rs.indicator, rs]));
  const resourceScopes = allResourceServers.flatMap((rs) => rs.scope.split(' ').filter(Boolean));
  const grantTTL = Math.max(config.sessionTTL, config.refreshTokenTTL);
  const allowedHosts = new Set(config.outboundAllowedHosts);

  const configuration: Configuration = {
    adapter: deps.storage.adapterFor,
    // Built in: the account console signs in through the provider like any relying party.
    clients: [accountClient(config.issuer)],
    jwks: { keys: jwks } as JWKS,
    cookies: { keys: deps.cookieKeys },
    // Every acr a flow achieves (the interaction engine sets the one reached). Fixed per
    // instance: ProviderHost builds a new provider when the flows' acr values change.
    acrValues: flows.acrValues,
    // Authorization code (with PKCE) only: no implicit or hybrid flows.
    responseTypes: ['code'],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    scopes: [...new Set([...STANDARD_SCOPES, ...resourceScopes])],
    claims: {
      acr: null,
      auth_time: null,
      sid: null,
      iss: null,
      // acr and amr with openid: every ID token says how, and how strongly, the user
      // authenticated (RFC 8176), not only when the RP asks through the claims parameter.
      // tessera_continuous: live, in userinfo only (and introspection), for sessions a stream monitors.
      openid: ['sub', 'acr', 'amr', CONTINUOUS_CLAIM],
      profile: ['name', 'preferred_username', 'updated_at'],
      email: ['email', 'email_verified'],
    },
    async findAccount(_ctx, sub, token) {
      // Its grants went when the session ended; a refresh may be the first to see it fall silent.
      if (token?.kind === 'RefreshToken' && token.sessionUid && (await deps.monitoringEnded(token.sessionUid))) return undefined;
      const account = await accounts.findRecent(sub);
      // A disabled account stops working everywhere (userinfo, refresh, new logins): at once when
      // disabled through this process, within a second when through another (see findRecent).
      if (!account || account.disabled) return undefined;
      return {
        accountId: account.id,
        async claims(use) {
          const sessionUid = token && 'sessionUid' in token ? token.sessionUid : undefined;
          const continuous = use === 'userinfo' ? await deps.continuousClaim(sessionUid) : undefined;
          return {
            ...(continuous ? { [CONTINUOUS_CLAIM]: continuous } : {}),
            sub: account.id,
            name: account.name,
            preferred_username: account.username,
            updated_at: Math.floor(account.updatedAt / 1000),
            email: account.email,
            email_verified: account.email ? account.emailVerified : undefined,
          };
        },
      };
    },
    loadExistingGrant,
    // tessera_reauth=second_factor: a re-authentication that must include a second factor the user has.
    extraParams: ['tessera_reauth'],
    extraClientMetadata: {
      // tessera_first_party skips consent; tessera_flow names the client's default sign-in flow;
      // tessera_self_registered (set by the client store, never by the client) marks dynamically registered clients.
      properties: ['tessera_first_party', 'tessera_flow', SELF_REGISTERED],
      validator(ctx, key, value) {
        // Administrators' settings: a client registering or updating itself may not set any of them.
        if (isSelfService(ctx) && value !== undefined) throw new errors.InvalidClientMetadata(`${key} cannot be registered by the client`);
        if (key === 'tessera_first_party' && value !== undefined && typeof value !== 'boolean') {
          throw new errors.InvalidClientMetadata('tessera_first_party must be a boolean');
        }
        if (key === 'tessera_flow' && value !== undefined && !(typeof value === 'string' && flows.has(value))) {
          throw new errors.InvalidClientMetadata(`tessera_flow must name a flow (${flows.names().join(', ')})`);
        }
      },
    },
    fetch(url, options) {
      // Drop the SSRF guard only for hosts the operator listed (e.g. RPs on an internal network).
      const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
      if (allowedHosts.has(host)) delete (options as { dispatcher?: unknown }).dispatcher;
      return globalThis.fetch(url, options);
    },
    clientBasedCORS(_ctx, origin, client) {
      // Browsers may call userinfo/token only from an origin of the client's own redirect URIs.
      return client.redirectUris?.some((uri) => URL.parse(uri)?.origin === origin) ?? false;
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // Confidential clients (resource servers) may introspect any token; public clients only their own.
        async allowedPolicy(ctx, client, token) {
          return client.clientAuthMethod !== 'none' || token.clientId === ctx.oidc.client?.clientId;
        },
      },
      revocation: {
        enabled: true,
        async allowedPolicy(_ctx, client, token) {
          if (token.clientId === client.clientId) return true;
          if (client.clientAuthMethod === 'none') return false;
          throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
        },
      },
      backchannelLogout: { enabled: true },
      pushedAuthorizationRequests: pushedAuthorizationRequests(config),
      dPoP: dpop(config, deps.dpopNonceSecret),
      requestObjects: requestObjects(config),
      registration: registration(config),
      registrationManagement: registrationManagement(config),
      claimsParameter: { enabled: true },
      deviceFlow: deps.deviceFlow.feature(),
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          views.render(ctx, 'logout', { title: 'Sign out', form, client: ctx.oidc.client?.clientName });
        },
        async postLogoutSuccessSource(ctx) {
          views.render(ctx, 'logged-out', { title: 'Signed out', client: ctx.oidc.client?.clientName });
        },
      },
      resourceIndicators: {
        enabled: true,
        async defaultResource(_ctx, _client, oneOf) {
          return oneOf;
        },
        async useGrantedResource() {
          return false;
        },
        async getResourceServerInfo(ctx, indicator) {
          // Admin tokens act for a machine client, never for a user who signed in to some RP.
          if (indicator === adminIndicator(config) && !(ctx.oidc.route === 'token' && ctx.oidc.params?.grant_type === 'client_credentials')) {
            throw new errors.InvalidTarget('the admin API accepts only client credentials tokens');
          }
          // Whatever scope it registered, a client that registered itself never acts on the admin API.
          if (indicator === adminIndicator(config) && ctx.oidc.client?.metadata()[SELF_REGISTERED]) {
            throw new errors.InvalidTarget('self-registered clients cannot use the admin API');
          }
          const rs = resourceServers.get(indicator);
          if (!rs) throw new errors.InvalidTarget(`unknown resource indicator: ${indicator}`);
          return resourceServerInfo(rs);
        },
      },
    },
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? config.accessTokenTTL,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? config.clientCredentialsTTL,
      AuthorizationCode: 60,
      IdToken: config.idTokenTTL,
      Interaction: config.interactionTTL,
      // A session without an account only holds the device page's form secret: it lives as long as a sign-in page.
      Session: (_ctx, session) => (session.accountId ? config.sessionTTL : config.interactionTTL),
      DeviceCode: config.deviceCodeTTL,
      Grant: grantTTL,
      RefreshToken: (ctx, _token, client) => {
        // A rotated public-client token inherits the remaining lifetime, so rotation never extends it.
        const rotated = ctx?.oidc?.entities.RotatedRefreshToken;
        if (rotated && client.clientAuthMethod === 'none') return rotated.remainingTTL;
        return config.refreshTokenTTL;
      },
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}`, policy: loginPolicy(deps) },
    async renderError(ctx, out) {
      const status = ctx.status >= 400 ? ctx.status : 400;
      views.render(
        ctx,
        'error',
        {
          title: 'Something went wrong',
          heading: status >= 500 ? 'Something went wrong on our side' : 'This request cannot be completed',
          message: out.error_description ?? 'The application sent an invalid request.',
          code: out.error,
          requestId: ctx.state.requestId,
        },
        status,
      );
    },
  };

  const provider = new Provider(config.issuer, configuration);
  // Introspection of a token whose session a stream monitors says how confident that monitoring is now.
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route !== 'introspection') return;
    const body = ctx.body as { active?: boolean } | undefined;
    const token = ctx.oidc.entities.AccessToken ?? ctx.oidc.entities.RefreshToken;
    if (!body?.active || !token) return;
    const claim = await deps.continuousClaim(token.sessionUid);
    if (claim) Object.assign(body, { [CONTINUOUS_CLAIM]: claim });
  });
  deps.deviceFlow.install(provider);
  if (config.registration) provider.use(deps.registrationThrottle);
  provider.proxy = config.trustProxy;
  return provider;
}
