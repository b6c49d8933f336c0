import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { ClientService } from '../accounts/clients.js';
import { RecentLookups } from '../db/recent-lookups.js';
import { grantBoundModels, type RecordStore } from './stores/record-store.js';

// Records that must survive a Redis restart stay in SQL even when Redis is configured.
const durableModels = new Set(['Grant', 'RefreshToken']);

// Kept this long past their expiry, so that a device still polling is told expired_token (RFC 8628)
// rather than invalid_grant for a code it cannot tell from a wrong one. The payload's own expiry still rules.
const keptPastExpirySeconds: Record<string, number> = { DeviceCode: 600 };

export interface AdapterStores {
  sql: RecordStore;
  shortLived: RecordStore;
  clients: ClientService;
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

  adapterFor = (model: string): Adapter =>
    model === 'Client' ? this.clientAdapter : new RecordAdapter(model, this);

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

// Client metadata is read on every token request; a one-second memory takes the database
// off that path while a deleted or changed client still stops working within a second.
const CLIENT_MEMORY_MS = 1000;

/** Clients are managed by the CLI/admin API; the provider only reads them. */
class ClientAdapter implements Adapter {
  private readonly recent: RecentLookups<AdapterPayload | undefined>;

  constructor(clients: ClientService) {
    this.recent = new RecentLookups((id) => clients.findForProvider(id) as Promise<AdapterPayload | undefined>, CLIENT_MEMORY_MS);
  }

  find(id: string) {
    return this.recent.get(id);
  }

  private readOnly(): never {
    throw new Error('clients are managed with `tessera client …`, not through the provider');
  }

  async upsert() {
    this.readOnly();
  }
  async findByUid() {
    return undefined;
  }
  async findByUserCode() {
    return undefined;
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
