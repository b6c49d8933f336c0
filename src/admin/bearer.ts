import * as jose from 'jose';
import type { SigningKeyStore } from '../oidc/signing-keys.js';
import { type AdminScope } from './resource.js';

// A token naming a kid we do not know triggers a reload, at most this often (a flood of
// forged kids must not become a flood of key queries).
const RELOAD_MIN_MS = 5_000;

/** Why a request is not authorised, in RFC 6750 terms. */
export class BearerError extends Error {
  override name = 'BearerError';
  constructor(
    readonly status: 401 | 403,
    readonly code: 'invalid_token' | 'insufficient_scope' | undefined,
    message: string,
    readonly scope?: AdminScope,
  ) {
    super(message);
  }

  /** The WWW-Authenticate challenge (RFC 6750 §3); no error code when no token was sent. */
  challenge(): string {
    const parts = ['realm="tessera-admin"'];
    if (this.code) parts.push(`error="${this.code}"`, `error_description="${this.message.replace(/["\\]/g, '')}"`);
    if (this.scope) parts.push(`scope="${this.scope}"`);
    return `Bearer ${parts.join(', ')}`;
  }
}

export interface AdminPrincipal {
  clientId: string;
}

/**
 * Verifies admin access tokens locally (RFC 9068 JWTs) against the provider's published
 * keys, read from the key table and reloaded when a token names a key not yet seen (a
 * rotation by any process).
 */
export class AdminBearer {
  private jwks: ReturnType<typeof jose.createLocalJWKSet> | undefined;
  private loadedAt = 0;

  constructor(
    private readonly keys: SigningKeyStore,
    private readonly issuer: string,
    private readonly audience: string,
  ) {}

  /** Drops the cached keys, e.g. after this process rotated them. */
  forget(): void {
    this.jwks = undefined;
  }

  private async keySet(reload: boolean) {
    if (!this.jwks || (reload && Date.now() - this.loadedAt >= RELOAD_MIN_MS)) {
      this.jwks = jose.createLocalJWKSet({ keys: (await this.keys.publicJwks()) as jose.JWK[] });
      this.loadedAt = Date.now();
    }
    return this.jwks;
  }

  private async verify(token: string) {
    const options = { issuer: this.issuer, audience: this.audience, typ: 'at+jwt', algorithms: ['ES256'] };
    try {
      return await jose.jwtVerify(token, await this.keySet(false), options);
    } catch (err) {
      if (!(err instanceof jose.errors.JWKSNoMatchingKey)) throw err;
      return jose.jwtVerify(token, await this.keySet(true), options);
    }
  }

  /** Checks the Authorization header and the scope; throws BearerError when either fails. */
  async authorise(header: string | undefined, scope: AdminScope): Promise<AdminPrincipal> {
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header ?? '');
    if (!header) throw new BearerError(401, undefined, 'an access token is required', scope);
    if (!match) throw new BearerError(401, 'invalid_token', 'the Authorization header must be "Bearer <token>"', scope);
    let payload: jose.JWTPayload;
    try {
      ({ payload } = await this.verify(match[1]!));
    } catch (err) {
      const expired = err instanceof jose.errors.JWTExpired;
      throw new BearerError(401, 'invalid_token', expired ? 'the access token has expired' : 'the access token is invalid', scope);
    }
    const clientId = typeof payload.client_id === 'string' ? payload.client_id : undefined;
    // Client credentials tokens have the client as subject; a user's token is not an admin token.
    if (!clientId || payload.sub !== clientId) throw new BearerError(401, 'invalid_token', 'the access token was not issued to a client for itself', scope);
    const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
    if (!scopes.includes(scope)) throw new BearerError(403, 'insufficient_scope', `this operation needs the ${scope} scope`, scope);
    return { clientId };
  }
}
