import type { Configuration } from 'oidc-provider';
import type { Config } from '../../../config/schema.js';

type Features = NonNullable<Configuration['features']>;

/**
 * Pushed authorization requests (RFC 9126): the client posts the request to the PAR endpoint and
 * sends the browser with only the request_uri. A client can require it for itself with the
 * `require_pushed_authorization_requests` metadata; the setting here requires it of every client.
 */
export function pushedAuthorizationRequests(config: Config): Features['pushedAuthorizationRequests'] {
  return {
    enabled: config.pushedAuthorizationRequests,
    requirePushedAuthorizationRequests: config.requirePushedAuthorizationRequests,
    // Pushed requests may use only registered redirect URIs, as front-channel ones do.
    allowUnregisteredRedirectUris: false,
  };
}
