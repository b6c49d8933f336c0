import { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import { AccountService } from './accounts/accounts.js';
import { loadBreachedPasswords } from './accounts/breached-passwords.js';
import { ClientService } from './accounts/clients.js';
import { PasswordPolicy } from './accounts/password-policy.js';
import { migrate, openDatabase, type Database } from './db/database.js';
import type { Logger } from './log.js';
import { Storage } from './oidc/adapter.js';
import { InitialAccessTokens } from './oidc/initial-access-tokens.js';
import { SigningKeyStore } from './oidc/signing-keys.js';
import { RedisRecordStore } from './oidc/stores/redis-records.js';
import type { RecordStore } from './oidc/stores/record-store.js';
import { SqlRecordStore } from './oidc/stores/sql-records.js';
import { AuditLog } from './security/audit-log.js';
import { CredentialThrottle } from './security/credential-throttle.js';
import { loadMasterKey, type MasterKeySource } from './security/master-key.js';
import { RedisRateCounter, SqlRateCounter, type RateCounter } from './security/rate-counter.js';
import { SealedBox } from './security/sealed-box.js';

/** Everything with a connection or a key behind it, shared by the server and the CLI. */
export interface Services {
  config: Config;
  log: Logger;
  db: Database;
  redis?: Redis;
  masterKey: MasterKeySource;
  accounts: AccountService;
  // What a password a person chooses must pass (admin API, CLI, account console).
  passwordPolicy: PasswordPolicy;
  clients: ClientService;
  // What a client presents to register itself (dynamic client registration).
  initialAccessTokens: InitialAccessTokens;
  keys: SigningKeyStore;
  audit: AuditLog;
  rateCounter: RateCounter;
  sqlRecords: SqlRecordStore;
  // Where short-lived provider records go: Redis when configured, else the SQL store.
  shortLivedRecords: RecordStore;
  // Failure counters and lockouts for every credential check (steps and the account console).
  throttle: CredentialThrottle;
  // The provider's records by model kind, and what revokes them (grants, sessions, whole accounts).
  storage: Storage;
  /** Deletes expired rows from the SQL stores; reads already ignore them, this reclaims space. */
  purgeExpired(): Promise<void>;
  close(): Promise<void>;
}

function connectRedis(url: string, log: Logger): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false });
  redis.on('error', (err: Error) => log.error({ err: err.message }, 'redis error'));
  return redis;
}

export async function openServices(config: Config, log: Logger, opts: { migrate?: boolean; createMasterKey?: boolean } = {}): Promise<Services> {
  const masterKey = loadMasterKey(config, { create: opts.createMasterKey ?? true });
  const db = openDatabase(config);
  if (opts.migrate ?? true) await migrate(db);
  const redis = config.redisUrl ? connectRedis(config.redisUrl, log) : undefined;
  if (redis) await redis.ping();

  const audit = new AuditLog(db, log);
  const clients = new ClientService(db, new SealedBox(masterKey.key, 'client-secret'));
  const sqlRecords = new SqlRecordStore(db);
  const initialAccessTokens = new InitialAccessTokens(db, () => Object.keys(config.registrationPolicies));
  const rateCounter = redis ? new RedisRateCounter(redis, config.redisPrefix) : new SqlRateCounter(db);

  const sql = { sqlRecords, shortLivedRecords: redis ? new RedisRecordStore(redis, config.redisPrefix) : sqlRecords };
  const storage = new Storage({
    sql: sql.sqlRecords,
    shortLived: sql.shortLivedRecords,
    clients,
    initialAccessTokens,
    onReplay(model, grantId) {
      audit.note({ type: 'token.replay_detected', outcome: 'failure', details: { model, grant_id: grantId } });
    },
  });

  return {
    config,
    log,
    db,
    redis,
    masterKey,
    accounts: new AccountService(db),
    passwordPolicy: new PasswordPolicy(
      { minLength: config.passwordMinLength, minScore: config.passwordMinScore, breachCheck: config.passwordBreachCheck },
      config.passwordBreachCheck ? loadBreachedPasswords(log) : undefined,
    ),
    clients,
    initialAccessTokens,
    keys: new SigningKeyStore(db, new SealedBox(masterKey.key, 'signing-key')),
    audit,
    rateCounter,
    throttle: new CredentialThrottle(rateCounter, config.login),
    ...sql,
    storage,
    async purgeExpired() {
      // Redis expires its counters by TTL; SQL counters are purged like the records.
      await Promise.all([sqlRecords.purgeExpired(), rateCounter instanceof SqlRateCounter ? rateCounter.purgeExpired() : undefined]);
    },
    async close() {
      await audit.flush();
      redis?.disconnect();
      await db.destroy();
    },
  };
}

/** How long a retired key stays published: the longest-lived token it can have signed, plus skew. */
export function retireAfterSeconds(config: Config): number {
  const ttls = [config.accessTokenTTL, config.idTokenTTL, config.clientCredentialsTTL, ...config.resourceServers.map((r) => r.accessTokenTTL)];
  return Math.max(...ttls) + 60;
}
