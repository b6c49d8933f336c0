import type { Server } from 'node:http';
import type { AdapterPayload, KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../../config/schema.js';
import { MONITOR_RESULT } from '../interaction/progress.js';
import type { Logger } from '../log.js';
import { MissLimiter } from '../security/miss-limiter.js';
import { deriveSecret } from '../security/sealed-box.js';
import type { Services } from '../services.js';
import type { StepRegistry } from '../steps/registry.js';
import { DEFAULT_CONTINUOUS_POLICY } from './continuous-policy.js';
import { MonitoredSessions } from './monitored-sessions.js';
import { SessionMonitor, type MonitorRequest } from './session-monitor.js';
import { StreamCredentials } from './stream-credentials.js';
import { StreamServer, streamPath } from './stream-server.js';
import { tokenRouter } from './token-route.js';

// A stream token opens one stream, within a minute.
const TOKEN_TTL_SECONDS = 60;
// Wrong continuations or stream tokens from one IP before it waits (both are bearer secrets).
const MAX_MISSES = 20;
const MISS_WINDOW_SECONDS = 600;

/**
 * Continuous authentication wired together for one server process: the device's credentials,
 * the shared monitored-session records, the monitor that ends sessions, the token route and the
 * WebSocket endpoint.
 */
export class ContinuousAuthentication {
  readonly credentials: StreamCredentials;
  readonly monitor: SessionMonitor;
  private readonly misses: MissLimiter;
  private readonly streams: StreamServer;

  constructor(
    services: Services,
    private readonly config: Config,
    steps: StepRegistry,
    announceEnded: (sessions: AdapterPayload[]) => Promise<void>,
    private readonly log: Logger,
  ) {
    this.credentials = new StreamCredentials(services.shortLivedRecords, deriveSecret(services.masterKey.key, 'stream-credentials'), TOKEN_TTL_SECONDS);
    this.misses = new MissLimiter(services.rateCounter, 'stream', MAX_MISSES, MISS_WINDOW_SECONDS);
    this.monitor = new SessionMonitor({
      sessions: new MonitoredSessions(services.shortLivedRecords),
      credentials: this.credentials,
      storage: services.storage,
      announceEnded,
      audit: services.audit,
      log,
      sessionTtlSeconds: config.sessionTTL,
      defaults: DEFAULT_CONTINUOUS_POLICY,
    });
    this.streams = new StreamServer({ credentials: this.credentials, monitor: this.monitor, misses: this.misses, steps, accounts: services.accounts, storage: services.storage, log });
  }

  /** What the capture route needs: continuations last as long as the sign-in may. */
  get captureContinuations() {
    return { credentials: this.credentials, ttlSeconds: this.config.interactionTTL };
  }

  /** What the sign-in engine needs. */
  get signIn() {
    return {
      forget: (id: string) => this.credentials.forget(id),
      active: async (sessionUid: string) => (await this.monitor.live(sessionUid)) !== undefined,
    };
  }

  router(issuer: () => string) {
    return tokenRouter({ credentials: this.credentials, monitor: this.monitor, misses: this.misses, streamUrl: (uid) => `${issuer().replace(/^http/, 'ws')}${streamPath(uid)}` });
  }

  /** After every authorization response: a sign-in of a monitoring flow starts monitoring its provider session. */
  authorized(ctx: KoaContextWithOIDC): void {
    const request = ctx.oidc.result?.[MONITOR_RESULT] as MonitorRequest | undefined;
    const session = ctx.oidc.session;
    if (!request || !session?.uid || !session.accountId) return;
    this.monitor.arm(session.uid, session.accountId, request).catch((err: Error) => this.log.error({ err }, 'continuous monitoring did not start'));
  }

  attach(server: Server): void {
    this.streams.attach(server);
  }

  close(): void {
    this.streams.close();
    this.monitor.close();
  }
}
