import type { EventEmitter } from 'node:events';
import type Provider from 'oidc-provider';
import type { AdapterPayload, KoaContextWithOIDC } from 'oidc-provider';
import type { AuditLog } from '../security/audit-log.js';
import type { Logger } from '../log.js';
import { buildProvider, type ProviderDeps } from './provider-config.js';
import type { ProtocolRefusals } from './protocol-refusals.js';
import type { SigningKeyStore } from './signing-keys.js';

const ERROR_EVENTS = [
  'authorization.error',
  'grant.error',
  'introspection.error',
  'revocation.error',
  'userinfo.error',
  'end_session.error',
  'pushed_authorization_request.error',
  'registration_create.error',
  'registration_read.error',
  'registration_update.error',
  'registration_delete.error',
  'jwks.error',
  'discovery.error',
];

const metaOf = (ctx: KoaContextWithOIDC | undefined) => ({
  ip: ctx?.ip,
  userAgent: ctx?.get('user-agent') || undefined,
  clientId: ctx?.oidc?.client?.clientId,
});

/**
 * Holds the live oidc-provider instance. oidc-provider fixes its keystore and its supported
 * acr values at construction, so a key rotation (by any process sharing the database) or a
 * change of the flows' acr values (admin API, CLI) is picked up by swapping in a provider
 * built afresh; requests in flight finish on the old one. Keys are polled here; flow changes
 * call `refresh` once the flow policy has them.
 */
export class ProviderHost {
  private provider!: Provider;
  private keysFingerprint = '';
  private acrFingerprint = '';
  private timer: NodeJS.Timeout | undefined;
  private readonly authorizedListeners: ((ctx: KoaContextWithOIDC) => void)[] = [];

  constructor(
    private readonly deps: ProviderDeps,
    private readonly keys: SigningKeyStore,
    private readonly audit: AuditLog,
    private readonly refusals: ProtocolRefusals,
    private readonly log: Logger,
  ) {}

  get current(): Provider {
    return this.provider;
  }

  /**
   * Sessions ended outside the provider's own logout (account console, a disabled user): the
   * clients they signed in to that asked for back-channel logout are told, as end_session would.
   * Failed deliveries are logged and audited, never thrown: the session is gone either way.
   */
  async announceEnded(sessions: AdapterPayload[]): Promise<void> {
    const deliveries = sessions.flatMap((session) =>
      Object.entries((session.authorizations ?? {}) as Record<string, { sid?: string }>).map(async ([clientId, { sid }]) => {
        const client = await this.provider.Client.find(clientId);
        if (!client?.backchannelLogoutUri || typeof session.accountId !== 'string') return;
        // The library's own end_session uses this method; its typings leave it out.
        const notifier = client as unknown as { backchannelLogout(sub: string, sid: string): Promise<void> };
        await notifier.backchannelLogout(session.accountId, sid ?? '').catch((err: Error) => {
          this.log.warn({ clientId, err: err.message }, 'back-channel logout delivery failed');
          this.audit.note({ type: 'logout', outcome: 'failure', subject: session.accountId as string, clientId, details: { backchannel: 'failed' } });
        });
      }),
    );
    await Promise.all(deliveries);
  }

  /** Called after every successful authorization response, on every provider this host builds (register before `start`). */
  onAuthorized(listener: (ctx: KoaContextWithOIDC) => void): void {
    this.authorizedListeners.push(listener);
  }

  async start(refreshSeconds: number): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => {
      this.refresh().catch((err: Error) => this.log.error({ err }, 'signing key refresh failed'));
    }, refreshSeconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Rebuilds the provider if the key set or the acr values changed; returns whether it did. */
  async refresh(): Promise<boolean> {
    const keysFingerprint = await this.keys.fingerprint();
    const acrFingerprint = this.deps.flows.acrValues.join(' ');
    if (keysFingerprint === this.keysFingerprint && acrFingerprint === this.acrFingerprint) return false;
    const provider = buildProvider(this.deps, await this.keys.loadPrivateJwks());
    this.observe(provider);
    const first = !this.provider;
    this.provider = provider;
    if (!first && keysFingerprint !== this.keysFingerprint) this.log.info({ keys: keysFingerprint.split(',').length }, 'signing keys changed; provider reloaded');
    if (!first && acrFingerprint !== this.acrFingerprint) this.log.info({ acrValues: this.deps.flows.acrValues }, 'acr values changed; provider reloaded');
    this.keysFingerprint = keysFingerprint;
    this.acrFingerprint = acrFingerprint;
    return true;
  }

  private observe(provider: Provider): void {
    const { audit, log } = this;
    // Event names are built from model kinds; the typings only list literal names.
    const events = provider as unknown as EventEmitter;
    events.on('grant.success', (ctx: KoaContextWithOIDC) => {
      audit.note({
        type: 'token.issued',
        outcome: 'success',
        subject: ctx.oidc.entities.Account?.accountId ?? ctx.oidc.entities.Grant?.accountId,
        ...metaOf(ctx),
        details: { grant_type: ctx.oidc.params?.grant_type },
      });
    });
    for (const kind of ['access_token', 'refresh_token', 'client_credentials']) {
      events.on(`${kind}.destroyed`, (token: { accountId?: string; clientId?: string }) => {
        const ctx = (provider.constructor as typeof Provider).ctx;
        audit.note({ type: 'token.revoked', outcome: 'success', subject: token.accountId, ...metaOf(ctx), clientId: token.clientId, details: { kind } });
      });
    }
    events.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) => {
      audit.note({ type: 'grant.revoked', outcome: 'success', ...metaOf(ctx), details: { grant_id: grantId, route: ctx.oidc.route } });
    });
    events.on('authorization.success', (ctx: KoaContextWithOIDC) => {
      for (const listener of this.authorizedListeners) listener(ctx);
    });
    // Dynamic client registration (RFC 7591/7592): clients created, changed or deleted by themselves.
    for (const [event, type] of [
      ['registration_create.success', 'client.registered'],
      ['registration_update.success', 'client.registration_updated'],
      ['registration_delete.success', 'client.registration_deleted'],
    ] as const) {
      events.on(event, (ctx: KoaContextWithOIDC, client: { clientId: string }) => {
        audit.note({ type, outcome: 'success', ...metaOf(ctx), clientId: client.clientId, details: { policies: ctx.oidc.entities.InitialAccessToken?.policies ?? ctx.oidc.entities.RegistrationAccessToken?.policies } });
      });
    }
    events.on('end_session.success', (ctx: KoaContextWithOIDC) => {
      audit.note({ type: 'logout', outcome: 'success', subject: ctx.oidc.session?.accountId, ...metaOf(ctx) });
    });
    events.on('backchannel.error', (ctx: KoaContextWithOIDC, err: Error, client: { clientId: string }) => {
      log.warn({ requestId: ctx.state.requestId, clientId: client.clientId, err: err.message }, 'back-channel logout delivery failed');
    });
    events.on('server_error', (ctx: KoaContextWithOIDC, err: Error) => {
      log.error({ requestId: ctx.state.requestId, err }, 'provider server error');
    });
    for (const event of ERROR_EVENTS) {
      events.on(event, (ctx: KoaContextWithOIDC, err: { error?: string; error_description?: string; error_detail?: string; status?: number }) => {
        this.refusals.note(ctx, event, err);
      });
    }
  }
}
