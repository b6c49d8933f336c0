import { errors, type ClientMetadata, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config, RegistrationPolicy } from '../../../config/schema.js';

type Features = NonNullable<Configuration['features']>;

// oidc-provider's default route of the registration endpoint (and of each client's configuration, below it).
export const REGISTRATION_PATH = '/reg';

// The routes on which a client writes its own metadata (RFC 7591 registration, RFC 7592 update).
const SELF_SERVICE_ROUTES = new Set(['registration', 'client_update']);

/** Whether this request is a client registering or updating itself. */
export const isSelfService = (ctx: KoaContextWithOIDC | undefined) => SELF_SERVICE_ROUTES.has(ctx?.oidc?.route ?? '');

const listed = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);

// RFC 7591's invalid_redirect_uri, saying which rule the URI broke (the library's text is about authorization requests).
const invalidRedirectUri = (description: string) => Object.assign(new errors.InvalidRedirectUri(), { error_description: description });

/** One configured policy as the check oidc-provider runs on the metadata a client asks for. */
function enforce(name: string, policy: RegistrationPolicy) {
  return (_ctx: KoaContextWithOIDC, metadata: ClientMetadata) => {
    for (const uri of [...listed(metadata.redirect_uris), ...listed(metadata.post_logout_redirect_uris)]) {
      const url = URL.parse(uri);
      if (!url) continue; // the provider's own validation refuses it
      if (policy.httpsOnly && url.protocol !== 'https:') throw invalidRedirectUri(`policy ${name}: redirect URIs must use https`);
      if (policy.redirectUriHosts && !policy.redirectUriHosts.includes(url.hostname)) {
        throw invalidRedirectUri(`policy ${name}: redirect URIs may name only ${policy.redirectUriHosts.join(', ')}`);
      }
    }
    const grantTypes = metadata.grant_types ?? ['authorization_code'];
    const refusedGrant = policy.grantTypes && grantTypes.find((g) => !policy.grantTypes!.includes(g as (typeof policy.grantTypes)[number]));
    if (refusedGrant) throw new errors.InvalidClientMetadata(`policy ${name}: grant type ${refusedGrant} is not allowed`);
    const method = metadata.token_endpoint_auth_method ?? 'client_secret_basic';
    if (policy.authMethods && !policy.authMethods.includes(method as (typeof policy.authMethods)[number])) {
      throw new errors.InvalidClientMetadata(`policy ${name}: token_endpoint_auth_method ${method} is not allowed`);
    }
    const scopes = typeof metadata.scope === 'string' ? metadata.scope.split(' ').filter(Boolean) : [];
    if (policy.scopes) {
      if (metadata.scope === undefined) throw new errors.InvalidClientMetadata(`policy ${name}: scope must be given (allowed: ${policy.scopes.join(' ')})`);
      const refusedScope = scopes.find((s) => !policy.scopes!.includes(s));
      if (refusedScope) throw new errors.InvalidClientMetadata(`policy ${name}: scope ${refusedScope} is not allowed`);
    }
  };
}

/**
 * Dynamic client registration (RFC 7591): only with an initial access token an administrator
 * issued (never open registration); the token's named policies restrict what may be registered,
 * on creation and on every later update. Each new client gets a registration access token for
 * RFC 7592 self-management.
 */
export function registration(config: Config): Features['registration'] {
  return {
    enabled: config.registration,
    initialAccessToken: true,
    policies: Object.fromEntries(Object.entries(config.registrationPolicies).map(([name, policy]) => [name, enforce(name, policy)])),
    issueRegistrationAccessToken: true,
  };
}

/**
 * RFC 7592 read, update and delete with the registration access token. Rotated on every update:
 * a copy taken from the client stops working once the client itself uses the token.
 */
export function registrationManagement(config: Config): Features['registrationManagement'] {
  return { enabled: config.registration, rotateRegistrationAccessToken: true };
}
