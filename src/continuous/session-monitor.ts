import type { AdapterPayload } from 'oidc-provider';
import type { ContinuousSettings } from '../../config/schema.js';
import type { Logger } from '../log.js';
import type { Storage } from '../oidc/adapter.js';
import type { AuditLog } from '../security/audit-log.js';
import type { EndedBy, MonitoredSession, MonitoredSessions } from './monitored-sessions.js';
import type { StreamCredentials } from './stream-credentials.js';

/** What a sign-in hands on when its flow keeps verifying the person (kept in the login result). */
export interface MonitorRequest {
  step: string;
  continuationId: string;
  /** The sign-in probe's LLR: where the running confidence starts. */
  llr: number;
  settings: ContinuousSettings;
}

/** The documented claim (`tessera_continuous`) RPs read through userinfo and introspection. */
export interface ContinuousClaim {
  state: 'waiting' | 'streaming';
  confidence: number;
  floor: number;
  windows: number;
  updated_at: number;
}

export interface SessionMonitorDeps {
  sessions: MonitoredSessions;
  credentials: StreamCredentials;
  storage: Storage;
  /** Tells the RPs of ended sessions (back-channel logout). */
  announceEnded(sessions: AdapterPayload[]): Promise<void>;
  audit: AuditLog;
  log: Logger;
  sessionTtlSeconds: number;
  /** The settings a flow leaves out (src/continuous/continuous-policy.ts). */
  defaults: { floor: number; silenceSeconds: number };
}

/** A monitored session that has not ended. */
type LiveSession = MonitoredSession & { state: 'waiting' | 'streaming' };

const round = (x: number) => Math.round(x * 1000) / 1000;

/**
 * How often a stream writes its news to the shared record (and reads it back): every frame would
 * cost a store round trip per headset per second. So the shared record's last-seen time may lag a
 * stream by this much, and a process judging silence from the record allows for it; the process
 * holding the stream times silence exactly.
 */
export const SYNC_INTERVAL_MS = 2_000;

/**
 * The life of monitored sessions: armed when a sign-in of a monitoring flow makes a provider
 * session, updated by its streams, ended (provider session destroyed, its grants and so its
 * refresh tokens revoked, every RP told by back-channel logout, audited) when confidence stays low
 * or the stream falls silent. Silence is watched by a timer in every process that has seen the
 * session, and checked again by any process that reads it (userinfo, introspection, a refresh), so
 * a session whose stream's process died ends all the same.
 */
export class SessionMonitor {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly deps: SessionMonitorDeps) {}

  silenceSeconds(session: Pick<MonitoredSession, 'settings'>): number {
    return session.settings.silenceSeconds ?? this.deps.defaults.silenceSeconds;
  }

  floor(session: Pick<MonitoredSession, 'settings'>): number {
    return session.settings.floor ?? this.deps.defaults.floor;
  }

  private ttlOf(session: MonitoredSession): number {
    return Math.max(1, Math.ceil((session.startedAt + this.deps.sessionTtlSeconds * 1000 - Date.now()) / 1000));
  }

  /** The sign-in made provider session `sessionUid` for a monitoring flow: monitoring starts, silence counts from now. */
  async arm(sessionUid: string, accountId: string, request: MonitorRequest): Promise<void> {
    const now = Date.now();
    const session: MonitoredSession = {
      sessionUid,
      accountId,
      step: request.step,
      continuationId: request.continuationId,
      settings: request.settings,
      confidence: request.llr,
      windows: 0,
      state: 'waiting',
      startedAt: now,
      lastSeenAt: now,
      updatedAt: now,
    };
    await this.deps.sessions.save(session, this.deps.sessionTtlSeconds);
    await this.deps.credentials.bind(request.continuationId, sessionUid, this.deps.sessionTtlSeconds);
    await this.deps.audit.record({ type: 'session.monitored', outcome: 'success', subject: accountId, details: { session: sessionUid, step: request.step, confidence: round(request.llr), ...request.settings } });
    this.watchSilence(session);
  }

  /**
   * The monitored session while it lasts; undefined when it has ended or was never monitored. One
   * silent too long is ended first (whichever process looks).
   */
  async live(sessionUid: string): Promise<LiveSession | undefined> {
    return this.liveFrom(await this.deps.sessions.get(sessionUid));
  }

  /** Whether the session was monitored and has ended (a silent one is ended now): its tokens must not be refreshed. */
  async hasEnded(sessionUid: string): Promise<boolean> {
    const stored = await this.deps.sessions.get(sessionUid);
    return stored !== undefined && (await this.liveFrom(stored)) === undefined;
  }

  private async liveFrom(stored: MonitoredSession | undefined): Promise<LiveSession | undefined> {
    if (!stored || stored.state === 'ended') return undefined;
    const session = stored as LiveSession;
    const silentMs = Date.now() - session.lastSeenAt;
    if (silentMs < this.silenceSeconds(session) * 1000 + SYNC_INTERVAL_MS) return session;
    await this.end(session, 'silent', { silent_seconds: Math.round(silentMs / 1000) });
    return undefined;
  }

  /** A stream's news (written at most every SYNC_INTERVAL_MS by the stream): its last frame's time and the confidence after its latest windows. */
  async update(session: MonitoredSession): Promise<void> {
    await this.deps.sessions.save(session, this.ttlOf(session));
    this.watchSilence(session);
  }

  /** Restarts the silence timer of this process for the session. */
  private watchSilence(session: MonitoredSession): void {
    clearTimeout(this.timers.get(session.sessionUid));
    const due = session.lastSeenAt + this.silenceSeconds(session) * 1000 + SYNC_INTERVAL_MS - Date.now();
    const timer = setTimeout(() => {
      this.timers.delete(session.sessionUid);
      // Another process may have seen frames since: live() decides on the shared record, and this
      // process keeps watching, in case that one dies.
      this.live(session.sessionUid)
        .then((still) => {
          if (still && !this.timers.has(still.sessionUid)) this.watchSilence(still);
        })
        .catch((err: Error) => this.deps.log.error({ err, session: session.sessionUid }, 'silence check failed'));
    }, Math.max(0, due) + 50);
    timer.unref();
    this.timers.set(session.sessionUid, timer);
  }

  /**
   * Ends the session at once: the provider session goes, with the grants of every application it
   * signed in to (their refresh and access tokens), the applications are told by back-channel
   * logout, and the audit says why. False when it had already ended.
   */
  async end(session: MonitoredSession, by: EndedBy, details: Record<string, unknown> = {}): Promise<boolean> {
    const latest = await this.deps.sessions.get(session.sessionUid);
    if (!latest || latest.state === 'ended') return false;
    clearTimeout(this.timers.get(session.sessionUid));
    this.timers.delete(session.sessionUid);
    const ended: MonitoredSession = { ...latest, ...pick(session), state: 'ended', endedBy: by };
    await this.deps.sessions.save(ended, this.ttlOf(ended));
    await this.deps.credentials.forget(ended.continuationId);
    const provider = await this.deps.storage.sessionByUid(ended.sessionUid);
    if (provider) {
      await this.deps.storage.endSession(provider);
      await this.deps.announceEnded([provider]);
    }
    await this.deps.audit.record({
      type: 'session.ended',
      outcome: 'success',
      subject: ended.accountId,
      details: {
        session: ended.sessionUid,
        reason: by,
        step: ended.step,
        confidence: round(ended.confidence),
        floor: this.floor(ended),
        windows: ended.windows,
        clients: Object.keys(provider?.authorizations ?? {}),
        ...details,
      },
    });
    return true;
  }

  /** The live claim of a monitored session, for userinfo and introspection; undefined when the session is not monitored. */
  async claim(sessionUid: string | undefined): Promise<ContinuousClaim | undefined> {
    const session = sessionUid ? await this.live(sessionUid) : undefined;
    if (!session) return undefined;
    return { state: session.state, confidence: round(session.confidence), floor: this.floor(session), windows: session.windows, updated_at: Math.floor(session.updatedAt / 1000) };
  }

  /** Stops this process's timers (shutdown); the shared records stay for the other processes. */
  close(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}

// The stream's latest figures win over an older copy read from the store.
const pick = (s: MonitoredSession) => ({ confidence: s.confidence, windows: s.windows });
