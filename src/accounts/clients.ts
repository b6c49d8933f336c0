import { randomBytes } from 'node:crypto';
import { InputError } from './input-error.js';
import type { ClientMetadata, ResponseType } from 'oidc-provider';
import type { Database } from '../db/database.js';
import type { SealedBox } from '../security/sealed-box.js';
import { ACCOUNT_CLIENT_ID } from '../account/account-client.js';

export interface ClientRecord {
  clientId: string;
  metadata: ClientMetadata;
  hasSecret: boolean;
  // Created through the registration endpoint (RFC 7591) rather than by an administrator.
  selfRegistered: boolean;
  createdAt: number;
}

export interface NewClient {
  clientId?: string;
  name?: string;
  redirectUris?: string[];
  postLogoutRedirectUris?: string[];
  grantTypes?: string[];
  authMethod?: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';
  jwksUri?: string;
  jwks?: { keys: unknown[] };
  scope?: string;
  backchannelLogoutUri?: string;
  firstParty?: boolean;
  // The flow its sign-ins follow unless the request names an acr (tessera_flow).
  flow?: string;
  // Protocol options (RFC 9126, RFC 9449): authorization requests only by PAR; access tokens only DPoP-bound.
  requirePushedAuthorizationRequests?: boolean;
  dpopBoundAccessTokens?: boolean;
  // Authorization requests only as a request object signed with the client's key (RFC 9101).
  requireSignedRequestObject?: boolean;
  // Applied to the metadata last, for settings the flags above do not cover.
  extra?: Record<string, unknown>;
}

// Settings that may change after registration; null clears an optional one.
export interface ClientChanges {
  name?: string | null;
  redirectUris?: string[];
  postLogoutRedirectUris?: string[];
  scope?: string | null;
  backchannelLogoutUri?: string | null;
  firstParty?: boolean;
  flow?: string | null;
  grantTypes?: string[];
  requirePushedAuthorizationRequests?: boolean;
  dpopBoundAccessTokens?: boolean;
  requireSignedRequestObject?: boolean;
  // The client's public keys (private_key_jwt, signed request objects): one replaces the other.
  jwks?: { keys: unknown[] };
  jwksUri?: string;
}

export class ClientError extends InputError {
  override name = 'ClientError';
}

const fromRow = (r: Record<string, unknown>): ClientRecord => ({
  clientId: String(r.client_id),
  metadata: JSON.parse(String(r.metadata)) as ClientMetadata,
  hasSecret: Boolean(r.secret_sealed),
  selfRegistered: Boolean(r.self_registered),
  createdAt: Number(r.created_at),
});

const COLUMNS = ['client_id', 'metadata', 'secret_sealed', 'self_registered', 'created_at'];

// What the provider is told of a self-registered client (see findForProvider); never stored in the metadata.
export const SELF_REGISTERED = 'tessera_self_registered';

const newSecret = () => randomBytes(32).toString('base64url');

const CLIENT_ID = /^[A-Za-z0-9._~-]{3,128}$/;

// Only the authorization endpoint answers with a response type (code); other grants have none.
const responseTypesFor = (grantTypes: string[]): ResponseType[] => (grantTypes.includes('authorization_code') ? ['code'] : []);

function checkPublicGrants(authMethod: string | undefined, grantTypes: string[]): void {
  if (authMethod === 'none' && grantTypes.includes('client_credentials')) {
    throw new ClientError('a public client (auth method none) cannot use client_credentials');
  }
}

/** Relying parties and API clients, stored in SQL with their secret sealed. */
export class ClientService {
  constructor(
    private readonly db: Database,
    private readonly box: SealedBox,
  ) {}

  /** `validate` may refuse the metadata (e.g. the provider's own checks) before anything is stored. */
  async create(input: NewClient, opts: { validate?(metadata: ClientMetadata): Promise<void> } = {}): Promise<{ client: ClientRecord; secret?: string }> {
    // Hex, so a generated id never starts with '-' and reads safely as a CLI argument.
    const clientId = input.clientId ?? randomBytes(12).toString('hex');
    if (!CLIENT_ID.test(clientId)) throw new ClientError('client id must be 3–128 characters of A-Z a-z 0-9 . _ ~ -');
    if (clientId === ACCOUNT_CLIENT_ID) throw new ClientError(`client id ${ACCOUNT_CLIENT_ID} is reserved for the built-in account console`, 'conflict');
    const authMethod = input.authMethod ?? 'client_secret_basic';
    const grantTypes = input.grantTypes ?? ['authorization_code', 'refresh_token'];
    const interactive = grantTypes.includes('authorization_code');
    if (interactive && !input.redirectUris?.length) throw new ClientError('a client using authorization_code needs at least one redirect URI');
    for (const uri of [...(input.redirectUris ?? []), ...(input.postLogoutRedirectUris ?? [])]) {
      if (!URL.canParse(uri)) throw new ClientError(`not an absolute URL: ${uri}`);
    }
    if (authMethod === 'private_key_jwt' && !input.jwksUri && !input.jwks) {
      throw new ClientError('private_key_jwt needs --jwks-uri or --jwks');
    }
    checkPublicGrants(authMethod, grantTypes);
    const metadata: ClientMetadata = {
      client_id: clientId,
      client_name: input.name,
      grant_types: grantTypes,
      response_types: responseTypesFor(grantTypes),
      redirect_uris: input.redirectUris ?? [],
      post_logout_redirect_uris: input.postLogoutRedirectUris,
      token_endpoint_auth_method: authMethod,
      jwks_uri: input.jwksUri,
      jwks: input.jwks as ClientMetadata['jwks'],
      scope: input.scope,
      backchannel_logout_uri: input.backchannelLogoutUri,
      backchannel_logout_session_required: input.backchannelLogoutUri ? true : undefined,
      tessera_first_party: input.firstParty ?? false,
      tessera_flow: input.flow,
      require_pushed_authorization_requests: input.requirePushedAuthorizationRequests,
      dpop_bound_access_tokens: input.dpopBoundAccessTokens,
      require_signed_request_object: input.requireSignedRequestObject,
      ...input.extra,
    };
    const needsSecret = authMethod === 'client_secret_basic' || authMethod === 'client_secret_post';
    const secret = needsSecret ? newSecret() : undefined;
    const now = Date.now();
    const clean = JSON.parse(JSON.stringify(metadata)) as ClientMetadata;
    await opts.validate?.({ ...clean, client_secret: secret });
    try {
      await this.db('clients').insert({
        client_id: clientId,
        metadata: JSON.stringify(clean),
        secret_sealed: secret ? this.box.seal(secret, clientId) : null,
        created_at: now,
        updated_at: now,
      });
    } catch (err) {
      if (/unique|duplicate/i.test((err as Error).message)) throw new ClientError(`client ${clientId} already exists`, 'conflict');
      throw err;
    }
    return { client: { clientId, metadata: clean, hasSecret: Boolean(secret), selfRegistered: false, createdAt: now }, secret };
  }

  async list(): Promise<ClientRecord[]> {
    const rows = await this.db('clients').select(COLUMNS).orderBy('client_id');
    return rows.map(fromRow);
  }

  async get(clientId: string): Promise<ClientRecord | undefined> {
    const row = await this.db('clients').select(COLUMNS).where({ client_id: clientId }).first();
    return row ? fromRow(row) : undefined;
  }

  /**
   * Replaces the client's shared secret; the new one is returned once. Undefined when there
   * is no such client; refused for clients that authenticate without a shared secret.
   */
  async rotateSecret(clientId: string): Promise<string | undefined> {
    const client = await this.get(clientId);
    if (!client) return undefined;
    if (!client.hasSecret) throw new ClientError(`client ${clientId} does not authenticate with a shared secret`);
    const secret = newSecret();
    await this.db('clients').where({ client_id: clientId }).update({ secret_sealed: this.box.seal(secret, clientId), updated_at: Date.now() });
    return secret;
  }

  /** Applies the changes to the stored metadata; undefined when there is no such client. */
  async update(
    clientId: string,
    changes: ClientChanges,
    opts: { validate?(metadata: ClientMetadata): Promise<void> } = {},
  ): Promise<ClientRecord | undefined> {
    const current = await this.findForProvider(clientId);
    if (!current) return undefined;
    const { client_secret: secret, [SELF_REGISTERED]: _flag, ...metadata } = current;
    const set = (key: string, value: unknown) => {
      if (value === null) delete metadata[key];
      else if (value !== undefined) metadata[key] = value;
    };
    set('client_name', changes.name);
    set('redirect_uris', changes.redirectUris);
    set('post_logout_redirect_uris', changes.postLogoutRedirectUris);
    set('scope', changes.scope);
    set('backchannel_logout_uri', changes.backchannelLogoutUri);
    set('backchannel_logout_session_required', changes.backchannelLogoutUri === null ? null : changes.backchannelLogoutUri ? true : undefined);
    set('tessera_first_party', changes.firstParty);
    set('tessera_flow', changes.flow);
    if (changes.grantTypes) {
      set('grant_types', changes.grantTypes);
      set('response_types', responseTypesFor(changes.grantTypes));
      checkPublicGrants(metadata.token_endpoint_auth_method, changes.grantTypes);
    }
    set('require_pushed_authorization_requests', changes.requirePushedAuthorizationRequests);
    set('dpop_bound_access_tokens', changes.dpopBoundAccessTokens);
    set('require_signed_request_object', changes.requireSignedRequestObject);
    if (changes.jwks && changes.jwksUri) throw new ClientError('give either jwks or jwksUri, not both');
    if (changes.jwks) {
      metadata.jwks = changes.jwks as ClientMetadata['jwks'];
      delete metadata.jwks_uri;
    }
    if (changes.jwksUri) {
      metadata.jwks_uri = changes.jwksUri;
      delete metadata.jwks;
    }
    for (const uri of [...(changes.redirectUris ?? []), ...(changes.postLogoutRedirectUris ?? [])]) {
      if (!URL.canParse(uri)) throw new ClientError(`not an absolute URL: ${uri}`);
    }
    if (metadata.grant_types?.includes('authorization_code') && !metadata.redirect_uris?.length) {
      throw new ClientError('a client using authorization_code needs at least one redirect URI');
    }
    await opts.validate?.({ ...metadata, client_secret: secret });
    await this.db('clients').where({ client_id: clientId }).update({ metadata: JSON.stringify(metadata), updated_at: Date.now() });
    return this.get(clientId);
  }

  async delete(clientId: string): Promise<boolean> {
    return (await this.db('clients').where({ client_id: clientId }).delete()) === 1;
  }

  /**
   * Stores a client as the registration endpoint (RFC 7591/7592) creates or updates it, secret sealed.
   * It may replace only a client that was itself self-registered, never one an administrator created.
   */
  async saveRegistered(metadata: ClientMetadata): Promise<void> {
    const { client_secret: secret, [SELF_REGISTERED]: _flag, ...rest } = metadata;
    const clientId = metadata.client_id;
    const now = Date.now();
    const row = { metadata: JSON.stringify(rest), secret_sealed: typeof secret === 'string' ? this.box.seal(secret, clientId) : null, updated_at: now };
    await this.db.transaction(async (trx) => {
      const existing = await trx('clients').select('self_registered').where({ client_id: clientId }).first();
      if (existing && !existing.self_registered) throw new ClientError(`client ${clientId} is not a self-registered client`, 'conflict');
      if (existing) await trx('clients').where({ client_id: clientId }).update(row);
      else await trx('clients').insert({ ...row, client_id: clientId, self_registered: true, created_at: now });
    });
  }

  /** Deletes a self-registered client (RFC 7592 delete); administrators' clients are out of its reach. */
  async deleteRegistered(clientId: string): Promise<void> {
    await this.db('clients').where({ client_id: clientId, self_registered: true }).delete();
  }

  /** Metadata as oidc-provider loads it, secret included, and whether the client registered itself. */
  async findForProvider(clientId: string): Promise<ClientMetadata | undefined> {
    const row = await this.db('clients').select('metadata', 'secret_sealed', 'self_registered').where({ client_id: clientId }).first();
    if (!row) return undefined;
    const metadata = JSON.parse(row.metadata) as ClientMetadata;
    if (row.secret_sealed) metadata.client_secret = this.box.open(row.secret_sealed, clientId).toString('utf8');
    if (row.self_registered) metadata[SELF_REGISTERED] = true;
    return metadata;
  }
}
