import type { AdapterPayload } from 'oidc-provider';

/**
 * Storage for oidc-provider records of one backend (SQL or Redis). Every record carries
 * its expiry into the store itself, so nothing outlives its TTL even if no process purges.
 */
export interface RecordStore {
  upsert(model: string, id: string, payload: AdapterPayload, expiresIn?: number): Promise<void>;
  find(model: string, id: string): Promise<AdapterPayload | undefined>;
  findByUid(model: string, uid: string): Promise<AdapterPayload | undefined>;
  findByUserCode(model: string, userCode: string): Promise<AdapterPayload | undefined>;
  /** Marks the record consumed; true only for the single caller that did so first. */
  consume(model: string, id: string): Promise<boolean>;
  destroy(model: string, id: string): Promise<void>;
  revokeByGrantId(model: string, grantId: string): Promise<void>;
  /** Live records of an account-indexed model (sessions, grants) that belong to the account. */
  findByAccount(model: string, accountId: string): Promise<AdapterPayload[]>;
}

// Models listed per account (the account console shows and revokes them).
export const accountIndexedModels = new Set(['Session', 'Grant']);

// Models whose records belong to a grant and go when it is revoked.
export const grantBoundModels = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

export const epochSeconds = (ms = Date.now()) => Math.floor(ms / 1000);
