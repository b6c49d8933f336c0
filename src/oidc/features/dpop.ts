import type { Configuration } from 'oidc-provider';
import type { Config } from '../../../config/schema.js';

type Features = NonNullable<Configuration['features']>;

/**
 * DPoP (RFC 9449): access tokens (and public clients' refresh tokens) bound to a key the client
 * proves possession of on every request. The nonce secret is derived from the master key, so
 * every process issues and accepts the same server nonces; proof replay (jti) is detected through
 * the adapter's ReplayDetection records, which live in the shared short-lived store.
 */
export function dpop(config: Config, nonceSecret: Buffer): Features['dPoP'] {
  return {
    enabled: config.dpop,
    nonceSecret,
    requireNonce: () => config.dpopRequireNonce,
    allowReplay: false,
  };
}
