import type { Logger } from 'pino';
import type { Database } from '../db/database.js';
import { toNumber } from '../db/database.js';

export type AuditType =
  | 'login.succeeded'
  | 'login.failed'
  // A biometric step's match within a fused requirement: the fused decision follows as login.succeeded/failed.
  | 'login.scored'
  | 'login.locked_out'
  | 'login.risk'
  | 'submission.refused'
  | 'credential.enrolled'
  | 'credential.enroll_failed'
  | 'credential.removed'
  | 'credential.renamed'
  | 'credential.migrated'
  | 'credential.recovery_codes_issued'
  // A passkey's signature counter did not increase: its authenticator may have been cloned.
  | 'credential.clone_suspected'
  | 'account.profile_updated'
  | 'account.password_changed'
  | 'account.session_revoked'
  // Continuous authentication: a session's stream monitoring started; the session was ended by it.
  | 'session.monitored'
  | 'session.ended'
  | 'account.client_revoked'
  // Device authorization grant (RFC 8628): a user code refused, the code entry limits reached, a device signed in or refused by the user.
  | 'device.code_rejected'
  | 'device.locked_out'
  | 'device.authorized'
  | 'device.denied'
  | 'account.audit_exported'
  | 'logout'
  | 'token.issued'
  | 'token.revoked'
  | 'token.replay_detected'
  // oidc-provider refused a protocol request (details: event, route, RFC error code).
  | 'oauth.request_refused'
  | 'grant.revoked'
  | 'key.rotated'
  | 'admin.user_created'
  | 'admin.user_disabled'
  | 'admin.user_enabled'
  | 'admin.password_set'
  | 'admin.user_updated'
  | 'admin.user_deleted'
  | 'admin.client_created'
  | 'admin.client_updated'
  | 'admin.client_deleted'
  | 'admin.client_secret_rotated'
  | 'admin.initial_access_token_created'
  | 'admin.initial_access_token_revoked'
  // Dynamic client registration: a client created, updated or deleted itself (RFC 7591/7592).
  | 'client.registered'
  | 'client.registration_updated'
  | 'client.registration_deleted'
  // An address was locked out of the registration endpoints after failed token checks.
  | 'registration.locked_out'
  | 'admin.credential_removed'
  | 'admin.flow_created'
  | 'admin.flow_updated'
  | 'admin.flow_deleted';

export interface AuditFilter {
  subject?: string;
  clientId?: string;
  type?: string;
  // Epoch ms, inclusive bounds.
  from?: number;
  to?: number;
  // Only events older than this id: the cursor of the page before.
  beforeId?: number;
  limit?: number;
}

export interface AuditEvent {
  type: AuditType;
  outcome: 'success' | 'failure';
  subject?: string;
  clientId?: string;
  ip?: string;
  userAgent?: string;
  // Free-form context; callers must never put secrets, tokens or templates here.
  details?: Record<string, unknown>;
}

export interface StoredAuditEvent extends AuditEvent {
  id: number;
  at: number;
}

interface Pending {
  row: Record<string, unknown>;
  done: (err?: Error) => void;
}

const COLUMNS = ['at', 'type', 'outcome', 'subject', 'client_id', 'ip', 'user_agent', 'details'];

// Fire-and-forget events (token issuance under load) wait this long to share one INSERT.
const NOTE_BATCH_MS = 50;

/**
 * Append-only audit trail. Writes are batched so issuing thousands of tokens per second does
 * not cost a round trip each: `record` resolves once its event is durable (flushed on the
 * next tick), `note` rides along with the next batch, and `flush` drains everything on shutdown.
 */
export class AuditLog {
  private queue: Pending[] = [];
  private draining: Promise<void> | undefined;
  private soon: NodeJS.Immediate | undefined;
  private later: NodeJS.Timeout | undefined;
  private readonly observers: ((event: AuditEvent) => void)[] = [];

  constructor(
    private readonly db: Database,
    private readonly log: Logger,
  ) {}

  record(event: AuditEvent): Promise<void> {
    const written = this.enqueue(event);
    this.soon ??= setImmediate(() => {
      this.soon = undefined;
      void this.drain();
    });
    return written;
  }

  /** Fire-and-forget variant for hot paths: failures are logged, never thrown at the caller. */
  note(event: AuditEvent): void {
    this.enqueue(event).catch((err: Error) => this.log.error({ err, type: event.type }, 'audit write failed'));
    this.later ??= setTimeout(() => {
      this.later = undefined;
      void this.drain();
    }, NOTE_BATCH_MS);
  }

  /** Sees every event as it is queued (metrics count security outcomes here, in one place). */
  observe(observer: (event: AuditEvent) => void): void {
    this.observers.push(observer);
  }

  private enqueue(event: AuditEvent): Promise<void> {
    for (const observer of this.observers) observer(event);
    const row = {
      at: Date.now(),
      type: event.type,
      outcome: event.outcome,
      subject: event.subject ?? null,
      client_id: event.clientId ?? null,
      ip: event.ip ?? null,
      user_agent: event.userAgent?.slice(0, 512) ?? null,
      details: event.details ? JSON.stringify(event.details) : null,
    };
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ row, done: (err) => (err ? reject(err) : resolve()) });
    });
  }

  /** Writes everything queued; a single writer at a time, so batches stay in order. */
  private drain(): Promise<void> {
    this.draining ??= (async () => {
      while (this.queue.length) {
        const batch = this.queue.splice(0, 500);
        try {
          await this.insert(batch.map((p) => p.row));
          for (const p of batch) p.done();
        } catch (err) {
          for (const p of batch) p.done(err as Error);
        }
      }
    })().finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  /**
   * One statement per batch, atomic on its own. On PostgreSQL the rows travel as a single JSON
   * parameter: hundreds of rows would otherwise be thousands of bind parameters to build and parse.
   */
  private async insert(rows: Record<string, unknown>[]): Promise<void> {
    if (this.db.client.config.client !== 'pg') {
      await this.db('audit_events').insert(rows);
      return;
    }
    await this.db.raw(
      `insert into audit_events (${COLUMNS.join(', ')})
       select ${COLUMNS.join(', ')} from json_to_recordset(?::json)
         as r(at bigint, type text, outcome text, subject text, client_id text, ip text, user_agent text, details text)`,
      [JSON.stringify(rows)],
    );
  }

  async flush(): Promise<void> {
    clearTimeout(this.later);
    this.later = undefined;
    while (this.queue.length || this.draining) await this.drain();
  }

  /** Newest first; page on with `beforeId` set to the last id seen. */
  async query(filter: AuditFilter = {}): Promise<StoredAuditEvent[]> {
    const q = this.db('audit_events').select('*').orderBy('id', 'desc').limit(filter.limit ?? 100);
    if (filter.subject) q.where({ subject: filter.subject });
    if (filter.clientId) q.where({ client_id: filter.clientId });
    if (filter.type) q.where({ type: filter.type });
    if (filter.from !== undefined) q.where('at', '>=', filter.from);
    if (filter.to !== undefined) q.where('at', '<=', filter.to);
    if (filter.beforeId !== undefined) q.where('id', '<', filter.beforeId);
    return (await q).map((r) => ({
      id: Number(r.id),
      at: toNumber(r.at)!,
      type: r.type,
      outcome: r.outcome,
      subject: r.subject ?? undefined,
      clientId: r.client_id ?? undefined,
      ip: r.ip ?? undefined,
      userAgent: r.user_agent ?? undefined,
      details: r.details ? JSON.parse(r.details) : undefined,
    }));
  }
}
