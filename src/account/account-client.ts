import type { ClientMetadata } from 'oidc-provider';

/** The account console signs in as this built-in first-party client of the provider itself. */
export const ACCOUNT_CLIENT_ID = 'tessera-account';
export const ACCOUNT_PREFIX = '/account';

export const accountCallbackUrl = (issuer: string) => `${issuer}${ACCOUNT_PREFIX}/callback`;

/**
 * A public client (no secret: the console redeems its codes inside the provider, with PKCE),
 * first-party so it never asks for consent; it only needs `openid`.
 */
export function accountClient(issuer: string): ClientMetadata {
  return {
    client_id: ACCOUNT_CLIENT_ID,
    client_name: 'Account console',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: [accountCallbackUrl(issuer)],
    scope: 'openid',
    tessera_first_party: true,
  };
}
