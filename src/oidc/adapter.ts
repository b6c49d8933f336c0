import { createHash } from 'node:crypto';
import { errors, type Adapter, type AdapterPayload, type ClientMetadata } from 'oidc-provider';
import type { ClientService } from '../accounts/clients.js';
import { RecentLookups } from '../db/recent-lookups.js';
import type { InitialAccessTokens } from './initial-access-tokens.js';
import { epochSeconds, grantBoundModels, type RecordStore } from './stores/record-store.js';

// Records that must survive a Redis restart stay in SQL even when Redis is configured.
const durableModels = new Set(['Grant', 'RefreshToken', 'RegistrationAccessToken']);

// Long-lived bearer credentials whose value is their id: stored under a hash of it, so the store never holds the value.
const hashedModels = new Set(['RegistrationAccessToken']);

// Kept this long past their expiry, so that a device still polling is told expired_token (RFC 8628)
// rather than invalid_grant for a code it cannot tell from a wrong one. The payload's own expiry still rules.
const keptPastExpirySeconds: Record<string, number> = { DeviceCode: 600 };

export interface AdapterStores {
  sql: RecordStore;
  shortLived: RecordStore;
  clients: ClientService;
  initialAccessTokens: InitialAccessTokens;
  onReplay(model: string, grantId: string | undefined): void;
}

/** Chooses the backend per model kind and revokes a whole grant across backends. */
export class Storage {
  private readonly clientAdapter: ClientAdapter;

  constructor(private readonly stores: AdapterStores) {
    this.clientAdapter = new ClientAdapter(stores.clients);
  }

  storeFor(model: string): RecordStore {
    return durableModels.has(model) ? this.stores.sql : this.stores.shortLived;
  }

  async revokeGrant(grantId: string): Promise<void> {
    await Promise.all([
      ...[...grantBoundModels].map((model) => this.storeFor(model).revokeByGrantId(model, grantId)),
      this.storeFor('Grant').destroy('Grant', grantId),
    ]);
  }

  /** Ends a provider session: its record goes, and the grants (with their tokens) of the clients it signed in to. */
  async endSession(session: AdapterPayload): Promise<void> {
    const authorizations = Object.values((session.authorizations ?? {}) as Record<string, { grantId?: string }>);
    await Promise.all([
      this.storeFor('Session').destroy('Session', String(session.jti)),
      ...authorizations.flatMap((a) => (a.grantId ? [this.revokeGrant(a.grantId)] : [])),
    ]);
  }

  /**
   * Takes everything an account holds: its sessions end and its grants go with every token
   * issued under them (so even opaque access tokens introspect as inactive at once).
   */
  async revokeAccount(accountId: string): Promise<{ sessions: AdapterPayload[]; grants: number }> {
    const [sessions, grants] = await Promise.all([this.findByAccount('Session', accountId), this.findByAccount('Grant', accountId)]);
    await Promise.all([
      ...sessions.map((session) => this.storeFor('Session').destroy('Session', String(session.jti))),
      ...grants.map((grant) => this.revokeGrant(String(grant.jti))),
    ]);
    return { sessions, grants: grants.length };
  }

  /** A provider session by its uid (what the console and continuous authentication name sessions by). */
  sessionByUid(uid: string) {
    return this.storeFor('Session').findByUid('Session', uid);
  }

  /** An account's live records of an account-indexed model (Session, Grant). */
  findByAccount(model: string, accountId: string) {
    return this.storeFor(model).findByAccount(model, accountId);
  }

  adapterFor = (model: string): Adapter => {
    if (model === 'Client') return this.clientAdapter;
    if (model === 'InitialAccessToken') return new InitialAccessTokenAdapter(this.stores.initialAccessTokens);
    if (model === 'ReplayDetection') return new ReplayAdapter(this);
    if (hashedModels.has(model)) return new HashedTokenAdapter(model, this.storeFor(model));
    return new RecordAdapter(model, this);
  };

  replayed(model: string, grantId: string | undefined) {
    this.stores.onReplay(model, grantId);
  }
}

class RecordAdapter implements Adapter {
  private readonly store: RecordStore;

  constructor(
    private readonly model: string,
    private readonly storage: Storage,
  ) {
    this.store = storage.storeFor(model);
  }

  upsert(id: string, payload: AdapterPayload, expiresIn?: number) {
    const kept = keptPastExpirySeconds[this.model];
    return this.store.upsert(this.model, id, payload, expiresIn && kept ? expiresIn + kept : expiresIn);
  }

  find(id: string) {
    return this.store.find(this.model, id);
  }

  findByUid(uid: string) {
    return this.store.findByUid(this.model, uid);
  }

  findByUserCode(userCode: string) {
    return this.store.findByUserCode(this.model, userCode);
  }

  async consume(id: string) {
    if (await this.store.consume(this.model, id)) return;
    // Lost the race to another request (possibly another process) redeeming the same
    // code or refresh token: treat it as the replay it is and revoke the whole grant.
    const record = await this.store.find(this.model, id);
    if (record?.grantId) await this.storage.revokeGrant(record.grantId);
    this.storage.replayed(this.model, record?.grantId);
    throw new errors.InvalidGrant(`${this.model === 'AuthorizationCode' ? 'authorization code' : 'token'} already used`);
  }

  destroy(id: string) {
    return this.store.destroy(this.model, id);
  }

  revokeByGrantId(grantId: string) {
    return this.store.revokeByGrantId(this.model, grantId);
  }
}

/** Models the provider looks up by id only: never by session uid or user code. */
class FoundByIdOnly {
  async findByUid() {
    return undefined;
  }
  async findByUserCode() {
    return undefined;
  }
}

// Client metadata is read on every token request; a one-second memory takes the database
// off that path while a deleted or changed client still stops working within a second.
const CLIENT_MEMORY_MS = 1000;

/** Clients are managed by the CLI/admin API; the provider writes only self-registered ones (RFC 7591/7592). */
class ClientAdapter extends FoundByIdOnly implements Adapter {
  private readonly recent: RecentLookups<AdapterPayload | undefined>;

  constructor(private readonly clients: ClientService) {
    super();
    this.recent = new RecentLookups((id) => clients.findForProvider(id) as Promise<AdapterPayload | undefined>, CLIENT_MEMORY_MS);
  }

  find(id: string) {
    return this.recent.get(id);
  }

  private readOnly(): never {
    throw new Error('clients are managed with `tessera client …`, not through the provider');
  }

  // Only the registration endpoint (RFC 7591/7592) writes clients through the provider.
  async upsert(id: string, payload: AdapterPayload) {
    await this.clients.saveRegistered({ ...payload, client_id: id } as ClientMetadata);
    this.recent.forget(id);
  }
  async consume() {
    this.readOnly();
  }
  async destroy(id: string) {
    await this.clients.deleteRegistered(id);
    this.recent.forget(id);
  }
  async revokeByGrantId() {
    return undefined;
  }
}

// How long a fresh claim is held before the provider's own save sets the real expiry: the DPoP
// proof acceptance window (300 s) with a minute of clock tolerance.
const REPLAY_CLAIM_SECONDS = 360;

/**
 * DPoP proof and client assertion jtis. oidc-provider's ReplayDetection.unique() looks the jti up
 * and saves it if absent, which two processes can both pass at once. Here the look-up itself
 * claims the jti with the store's atomic consume, so of concurrent uses on any processes exactly
 * one finds nothing; the provider's save that follows sets the record's real expiry.
 */
class ReplayAdapter extends RecordAdapter {
  private readonly replays: RecordStore;

  constructor(storage: Storage) {
    super('ReplayDetection', storage);
    this.replays = storage.storeFor('ReplayDetection');
  }

  override async find(id: string) {
    const seen = await this.replays.find('ReplayDetection', id);
    if (seen) return seen;
    const now = epochSeconds();
    const claim = { jti: id, kind: 'ReplayDetection', iat: now, exp: now + REPLAY_CLAIM_SECONDS };
    await this.replays.upsert('ReplayDetection', id, claim, REPLAY_CLAIM_SECONDS);
    return (await this.replays.consume('ReplayDetection', id)) ? undefined : claim;
  }
}

const hashOf = (value: string) => createHash('sha256').update(value).digest('base64url');

/** A token model keyed by a hash of its value: the value itself (also the payload's jti) is never stored. */
class HashedTokenAdapter extends FoundByIdOnly implements Adapter {
  constructor(
    private readonly model: string,
    private readonly store: RecordStore,
  ) {
    super();
  }

  upsert(id: string, payload: AdapterPayload, expiresIn?: number) {
    const { jti: _value, ...rest } = payload;
    return this.store.upsert(this.model, hashOf(id), rest, expiresIn);
  }

  async find(id: string) {
    const stored = await this.store.find(this.model, hashOf(id));
    return stored && { ...stored, jti: id };
  }

  async consume(id: string) {
    await this.store.consume(this.model, hashOf(id));
  }
  destroy(id: string) {
    return this.store.destroy(this.model, hashOf(id));
  }
  revokeByGrantId(grantId: string) {
    return this.store.revokeByGrantId(this.model, grantId);
  }
}

/** Initial access tokens are issued by administrators (InitialAccessTokens); the provider only reads them. */
class InitialAccessTokenAdapter extends FoundByIdOnly implements Adapter {
  constructor(private readonly tokens: InitialAccessTokens) {
    super();
  }

  find(id: string) {
    return this.tokens.findForProvider(id);
  }

  private readOnly(): never {
    throw new Error('initial access tokens are issued with `tessera client registration-token create`, not through the provider');
  }

  async upsert() {
    this.readOnly();
  }
  async consume() {
    this.readOnly();
  }
  async destroy() {
    this.readOnly();
  }
  async revokeByGrantId() {
    return undefined;
  }
}
