import { createHash, randomBytes } from 'node:crypto';
import type { AdapterPayload } from 'oidc-provider';
import { InputError } from '../accounts/input-error.js';
import type { Database } from '../db/database.js';
import { epochSeconds } from './stores/record-store.js';

export interface InitialAccessToken {
  id: string;
  policies: string[];
  description?: string;
  createdAt: number;
  expiresAt: number;
  revokedAt?: number;
}

export interface NewInitialAccessToken {
  policies?: string[];
  description?: string;
  expiresInSeconds?: number;
}

export const DEFAULT_INITIAL_ACCESS_TOKEN_SECONDS = 7 * 24 * 3600;

// The value is 256 random bits, so an unsalted SHA-256 is as good as a slow hash against guessing,
// and it can be looked up directly.
const hashOf = (value: string) => createHash('sha256').update(value).digest('hex');

const fromRow = (r: Record<string, unknown>): InitialAccessToken => ({
  id: String(r.id),
  policies: JSON.parse(String(r.policies)) as string[],
  description: r.description ? String(r.description) : undefined,
  createdAt: Number(r.created_at),
  expiresAt: Number(r.expires_at),
  revokedAt: r.revoked_at === null || r.revoked_at === undefined ? undefined : Number(r.revoked_at),
});

/**
 * Initial access tokens (RFC 7591 §3): what a client must present to register itself. Created,
 * listed and revoked by administrators (admin API, CLI); the value is shown once and only its
 * hash is stored. The provider reads them through a read-only adapter (`findForProvider`).
 */
export class InitialAccessTokens {
  constructor(
    private readonly db: Database,
    // The registration policies configured (config registrationPolicies): a token may name only these.
    private readonly policyNames: () => string[],
  ) {}

  async create(input: NewInitialAccessToken): Promise<{ token: InitialAccessToken; value: string }> {
    const policies = [...new Set(input.policies ?? [])];
    const known = this.policyNames();
    const unknown = policies.filter((p) => !known.includes(p));
    if (unknown.length) throw new InputError(`unknown registration policy: ${unknown.join(', ')} (configured: ${known.join(', ') || 'none'})`);
    const value = randomBytes(32).toString('base64url');
    const now = Date.now();
    const token: InitialAccessToken = {
      id: randomBytes(8).toString('hex'),
      policies,
      description: input.description,
      createdAt: now,
      expiresAt: now + (input.expiresInSeconds ?? DEFAULT_INITIAL_ACCESS_TOKEN_SECONDS) * 1000,
    };
    await this.db('initial_access_tokens').insert({
      id: token.id,
      token_hash: hashOf(value),
      policies: JSON.stringify(policies),
      description: token.description ?? null,
      created_at: token.createdAt,
      expires_at: token.expiresAt,
    });
    return { token, value };
  }

  async list(): Promise<InitialAccessToken[]> {
    const rows = await this.db('initial_access_tokens').select('id', 'policies', 'description', 'created_at', 'expires_at', 'revoked_at').orderBy('created_at', 'desc');
    return rows.map(fromRow);
  }

  /** Revokes a token (it stays listed as revoked); false when there is no such token. */
  async revoke(id: string): Promise<boolean> {
    const token = await this.db('initial_access_tokens').select('revoked_at').where({ id }).first();
    if (!token) return false;
    if (token.revoked_at === null) await this.db('initial_access_tokens').where({ id }).update({ revoked_at: Date.now() });
    return true;
  }

  /**
   * The token as oidc-provider's InitialAccessToken model reads it; nothing for an unknown, expired
   * or revoked value, or for one naming a policy that is no longer configured (its restriction
   * cannot be applied, so the token is refused rather than let through unrestricted).
   */
  async findForProvider(value: string): Promise<AdapterPayload | undefined> {
    const row = await this.db('initial_access_tokens')
      .select('policies', 'created_at', 'expires_at')
      .where({ token_hash: hashOf(value) })
      .whereNull('revoked_at')
      .andWhere('expires_at', '>', Date.now())
      .first();
    if (!row) return undefined;
    const policies = JSON.parse(String(row.policies)) as string[];
    const known = this.policyNames();
    if (!policies.every((p) => known.includes(p))) return undefined;
    return {
      jti: value,
      kind: 'InitialAccessToken',
      iat: epochSeconds(Number(row.created_at)),
      exp: epochSeconds(Number(row.expires_at)),
      ...(policies.length ? { policies } : {}),
    };
  }
}
