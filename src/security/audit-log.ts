import type { Logger } from 'pino';
import type { Database } from '../db/database.js';
import { toNumber } from '../db/database.js';

export type AuditType =
  | 'login.succeeded'
  | 'login.failed'
  | 'login.locked_out'
  | 'logout'
  | 'token.issued'
  | 'token.revoked'
  | 'token.replay_detected'
  | 'grant.revoked'
  | 'key.rotated'
  | 'admin.user_created'
  | 'admin.user_disabled'
  | 'admin.user_enabled'
  | 'admin.password_set'
  | 'admin.client_created'
  | 'admin.client_deleted';

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

/**
 * Append-only audit trail. Writes are batched (one INSERT per tick under load) so issuing
 * thousands of tokens per second does not cost a round trip each; `record` resolves once
 * the event is durable, and `flush` drains everything on shutdown.
 */
export class AuditLog {
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly db: Database,
    private readonly log: Logger,
  ) {}

  record(event: AuditEvent): Promise<void> {
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
      this.flushing ??= new Promise<void>((r) => setImmediate(r)).then(() => this.drain());
    });
  }

  /** Fire-and-forget variant for hot paths: failures are logged, never thrown at the caller. */
  note(event: AuditEvent): void {
    this.record(event).catch((err: Error) => this.log.error({ err, type: event.type }, 'audit write failed'));
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue.splice(0, 500);
      try {
        await this.db.batchInsert('audit_events', batch.map((p) => p.row), 500);
        for (const p of batch) p.done();
      } catch (err) {
        for (const p of batch) p.done(err as Error);
      }
    }
    this.flushing = undefined;
  }

  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  async query(filter: { subject?: string; clientId?: string; type?: string; limit?: number } = {}): Promise<StoredAuditEvent[]> {
    const q = this.db('audit_events').select('*').orderBy('id', 'desc').limit(filter.limit ?? 100);
    if (filter.subject) q.where({ subject: filter.subject });
    if (filter.clientId) q.where({ client_id: filter.clientId });
    if (filter.type) q.where({ type: filter.type });
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
