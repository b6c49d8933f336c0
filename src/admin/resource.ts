import type { Config, ResourceServerConfig } from '../../config/schema.js';

export const ADMIN_READ = 'admin:read';
export const ADMIN_WRITE = 'admin:write';
export type AdminScope = typeof ADMIN_READ | typeof ADMIN_WRITE;

/** The admin API's resource indicator: tokens for it are audience-bound to this URL. */
export const adminIndicator = (config: Pick<Config, 'issuer'>) => `${config.issuer}/admin/v1`;

/** Built in, so every deployment can mint admin tokens with client credentials. */
export function adminResourceServer(config: Pick<Config, 'issuer' | 'clientCredentialsTTL'>): ResourceServerConfig {
  return {
    indicator: adminIndicator(config),
    scope: `${ADMIN_READ} ${ADMIN_WRITE}`,
    accessTokenFormat: 'jwt',
    signingAlg: 'ES256',
    accessTokenTTL: config.clientCredentialsTTL,
  };
}
