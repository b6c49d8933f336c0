import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Redis } from 'ioredis';
import type { Database } from '../db/database.js';
import type { SigningKeyStore } from '../oidc/signing-keys.js';
import type { AuditEvent } from '../security/audit-log.js';

export interface MetricsSources {
  db: Database;
  redis?: Redis;
  keys: SigningKeyStore;
}

// The pool knex keeps (tarn); its typings do not expose it.
interface Pool {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
}

/**
 * One process's Prometheus registry: its own, never prom-client's global one, so two servers in one
 * process (tests) keep separate counts. Counters are fed by the HTTP middleware, the sign-in engine
 * and the audit trail; gauges read their source at scrape time.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Histogram({
    name: 'tessera_http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern and status, with their latency',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly signIns = new Counter({
    name: 'tessera_sign_ins_total',
    help: 'Sign-in step submissions by flow, step and outcome (success, failure, throttled)',
    labelNames: ['flow', 'step', 'outcome'],
    registers: [this.registry],
  });
  private readonly tokensIssued = new Counter({
    name: 'tessera_tokens_issued_total',
    help: 'Token endpoint grants that succeeded, by grant type',
    labelNames: ['grant_type'],
    registers: [this.registry],
  });
  private readonly lockouts = new Counter({
    name: 'tessera_lockouts_total',
    help: 'Lock-outs started, by audit event (login, device code entry, registration) and scope',
    labelNames: ['event', 'scope'],
    registers: [this.registry],
  });
  private readonly throttled = new Counter({
    name: 'tessera_throttled_attempts_total',
    help: 'Credential checks refused because a lock-out held, by audit event and scope',
    labelNames: ['event', 'scope'],
    registers: [this.registry],
  });
  constructor(sources: MetricsSources) {
    collectDefaultMetrics({ register: this.registry });
    const pool = (sources.db.client as unknown as { pool?: Pool }).pool;
    new Gauge({
      name: 'tessera_db_pool_connections',
      help: 'SQL connection pool: connections in use, idle, and requests waiting for one',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        this.set({ state: 'used' }, pool?.numUsed() ?? 0);
        this.set({ state: 'free' }, pool?.numFree() ?? 0);
        this.set({ state: 'pending' }, pool?.numPendingAcquires() ?? 0);
      },
    });
    const { redis, keys } = sources;
    if (redis) {
      new Gauge({
        name: 'tessera_redis_up',
        help: '1 while the Redis connection is ready, else 0',
        registers: [this.registry],
        // Across cluster workers: up only if every worker's connection is.
        aggregator: 'min',
        collect() {
          this.set(redis.status === 'ready' ? 1 : 0);
        },
      });
    }
    new Gauge({
      name: 'tessera_signing_key_age_seconds',
      help: 'Age of each published signing key (retired ones until their last token expires), by kid, algorithm and state (next, current, retired)',
      labelNames: ['kid', 'alg', 'state'],
      registers: [this.registry],
      // Every worker reads the same keys.
      aggregator: 'max',
      async collect() {
        const now = Date.now();
        // Keys rotate away: start afresh so a deleted key's series ends.
        this.reset();
        for (const key of await keys.list()) if (key.state !== 'retired' || (key.retireUntil ?? 0) > now) this.set({ kid: key.kid, alg: key.alg, state: key.state }, (now - key.createdAt) / 1000);
      },
    });
  }

  /** The audit trail names every security outcome: tokens issued, lock-outs, refusals under a lock. */
  observeAudit(event: AuditEvent): void {
    const details = event.details ?? {};
    const scope = typeof details.scope === 'string' ? details.scope : 'none';
    if (event.type === 'token.issued') this.tokensIssued.inc({ grant_type: String(details.grant_type ?? 'unknown') });
    else if (event.type.endsWith('.locked_out')) this.lockouts.inc({ event: event.type, scope });
    // Sign-in steps and the account console audit a check refused under a lock with reason `locked_<scope>`.
    else if (event.outcome === 'failure' && typeof details.reason === 'string' && details.reason.startsWith('locked_')) {
      this.throttled.inc({ event: event.type, scope: details.reason.slice('locked_'.length) });
    }
  }
}
