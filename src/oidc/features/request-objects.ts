import type { Configuration } from 'oidc-provider';
import type { Config } from '../../../config/schema.js';

type Features = NonNullable<Configuration['features']>;

/**
 * JWT-secured authorization requests (RFC 9101): the authorization parameters as a request object
 * signed with the client's registered key, sent as `request=` or pushed through PAR (RFC 9126);
 * fetching `request_uri` from elsewhere is not offered. A client can require signed request objects
 * for itself with `require_signed_request_object`.
 */
export function requestObjects(config: Config): Features['requestObjects'] {
  return { enabled: config.requestObjects, requireSignedRequestObject: false };
}
