import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { loadConfig } from '../../config/load.js';
import { migrate, openDatabase, type Database } from '../../src/db/database.js';
import { createLogger } from '../../src/log.js';
import { openServices } from '../../src/services.js';
import { RedisRecordStore } from '../../src/oidc/stores/redis-records.js';
import type { RecordStore } from '../../src/oidc/stores/record-store.js';
import { SqlRecordStore } from '../../src/oidc/stores/sql-records.js';
import { postgresRedisBackend, REDIS_URL, sqliteBackend, type Backend } from '../support/backends.js';

interface Harness {
  store: RecordStore;
  dispose(): Promise<void>;
}

async function sqlHarness(make: () => Promise<Backend>): Promise<Harness> {
  const backend = await make();
  const db: Database = openDatabase(loadConfig({ ...backend.env, TESSERA_MASTER_KEY: randomBytes(32).toString('base64') }));
  await migrate(db);
  return {
    store: new SqlRecordStore(db),
    async dispose() {
      await db.destroy();
      await backend.dispose();
    },
  };
}

async function redisHarness(): Promise<Harness> {
  const redis = new Redis(REDIS_URL);
  const prefix = `tessera_t_${randomBytes(6).toString('hex')}:`;
  return {
    store: new RedisRecordStore(redis, prefix),
    async dispose() {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    },
  };
}

const HARNESSES: [string, () => Promise<Harness>][] = [
  ['SQL on SQLite', () => sqlHarness(sqliteBackend)],
  ['SQL on PostgreSQL', () => sqlHarness(postgresRedisBackend)],
  ['Redis', redisHarness],
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const [name, make] of HARNESSES) {
  describe(`record store contract: ${name}`, () => {
    let h: Harness;
    before(async () => {
      h = await make();
    });
    after(() => h.dispose());

    test('upsert then find returns the payload; upsert replaces it', async () => {
      await h.store.upsert('AccessToken', 'a1', { jti: 'a1', grantId: 'g0', scope: 'openid' }, 60);
      assert.deepEqual(await h.store.find('AccessToken', 'a1'), { jti: 'a1', grantId: 'g0', scope: 'openid' });
      await h.store.upsert('AccessToken', 'a1', { jti: 'a1', grantId: 'g0', scope: 'openid email' }, 60);
      assert.equal((await h.store.find('AccessToken', 'a1'))?.scope, 'openid email');
      assert.equal(await h.store.find('AccessToken', 'missing'), undefined);
      assert.equal(await h.store.find('RefreshToken', 'a1'), undefined, 'models are separate namespaces');
    });

    test('findByUid and findByUserCode use their secondary indexes', async () => {
      await h.store.upsert('Session', 's1', { jti: 's1', uid: 'u-1' }, 60);
      assert.equal((await h.store.findByUid('Session', 'u-1'))?.jti, 's1');
      assert.equal(await h.store.findByUid('Session', 'u-2'), undefined);
      await h.store.upsert('DeviceCode', 'd1', { jti: 'd1', userCode: 'ABCD-EFGH' }, 60);
      assert.equal((await h.store.findByUserCode('DeviceCode', 'ABCD-EFGH'))?.jti, 'd1');
    });

    test('consume succeeds once, even for concurrent callers, and find reports it', async () => {
      await h.store.upsert('AuthorizationCode', 'c1', { jti: 'c1', grantId: 'g1' }, 60);
      const results = await Promise.all(Array.from({ length: 20 }, () => h.store.consume('AuthorizationCode', 'c1')));
      assert.equal(results.filter(Boolean).length, 1);
      const found = await h.store.find('AuthorizationCode', 'c1');
      assert.equal(typeof found?.consumed, 'number');
      assert.equal(await h.store.consume('AuthorizationCode', 'nope'), false);
    });

    test('an upsert after consume keeps the record consumed', async () => {
      await h.store.upsert('RefreshToken', 'r9', { jti: 'r9', grantId: 'g9' }, 60);
      assert.equal(await h.store.consume('RefreshToken', 'r9'), true);
      await h.store.upsert('RefreshToken', 'r9', { jti: 'r9', grantId: 'g9', scope: 'x' }, 60);
      assert.equal(typeof (await h.store.find('RefreshToken', 'r9'))?.consumed, 'number');
    });

    test('destroy removes a record', async () => {
      await h.store.upsert('Interaction', 'i1', { jti: 'i1' }, 60);
      await h.store.destroy('Interaction', 'i1');
      assert.equal(await h.store.find('Interaction', 'i1'), undefined);
    });

    test('revokeByGrantId removes that model\'s records of the grant only', async () => {
      await h.store.upsert('AccessToken', 'at-g2', { jti: 'at-g2', grantId: 'g2' }, 60);
      await h.store.upsert('RefreshToken', 'rt-g2', { jti: 'rt-g2', grantId: 'g2' }, 60);
      await h.store.upsert('AccessToken', 'at-g3', { jti: 'at-g3', grantId: 'g3' }, 60);
      await h.store.revokeByGrantId('AccessToken', 'g2');
      assert.equal(await h.store.find('AccessToken', 'at-g2'), undefined);
      assert.ok(await h.store.find('RefreshToken', 'rt-g2'));
      assert.ok(await h.store.find('AccessToken', 'at-g3'));
    });

    test('findByAccount lists the live sessions and grants of one account', async () => {
      await h.store.upsert('Session', 'sa', { jti: 'sa', uid: 'ua', accountId: 'acct-1' }, 60);
      await h.store.upsert('Session', 'sb', { jti: 'sb', uid: 'ub', accountId: 'acct-2' }, 60);
      await h.store.upsert('Grant', 'ga', { jti: 'ga', accountId: 'acct-1', clientId: 'c' }, 60);
      assert.deepEqual((await h.store.findByAccount('Session', 'acct-1')).map((p) => p.jti), ['sa']);
      assert.deepEqual((await h.store.findByAccount('Grant', 'acct-1')).map((p) => p.jti), ['ga']);
      // A session re-used by another account, or destroyed, drops out of the old account's list.
      await h.store.upsert('Session', 'sa', { jti: 'sa', uid: 'ua', accountId: 'acct-2' }, 60);
      await h.store.destroy('Grant', 'ga');
      assert.deepEqual(await h.store.findByAccount('Session', 'acct-1'), []);
      assert.deepEqual(await h.store.findByAccount('Grant', 'acct-1'), []);
      assert.deepEqual((await h.store.findByAccount('Session', 'acct-2')).map((p) => p.jti).sort(), ['sa', 'sb']);
    });

    test('expiry is enforced by the store', async () => {
      await h.store.upsert('AuthorizationCode', 'short', { jti: 'short' }, 1);
      assert.ok(await h.store.find('AuthorizationCode', 'short'));
      await sleep(1100);
      assert.equal(await h.store.find('AuthorizationCode', 'short'), undefined);
    });
  });
}

describe('Redis grant index', () => {
  test('never outlives its longest member', async () => {
    const redis = new Redis(REDIS_URL);
    const prefix = `tessera_t_${randomBytes(6).toString('hex')}:`;
    try {
      const store = new RedisRecordStore(redis, prefix);
      await store.upsert('AccessToken', 'x', { jti: 'x', grantId: 'gx' }, 30);
      await store.upsert('RefreshToken', 'y', { jti: 'y', grantId: 'gx' }, 300);
      await store.upsert('AccessToken', 'z', { jti: 'z', grantId: 'gx' }, 10);
      const ttl = await redis.ttl(`${prefix}grant:gx`);
      assert.ok(ttl > 290 && ttl <= 300, `grant index ttl ${ttl}`);
    } finally {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
  });
});

describe('purging the SQL stores', () => {
  test('expired records and rate counters are deleted, live ones kept', async () => {
    const backend = await sqliteBackend();
    const s = await openServices(loadConfig({ ...backend.env, TESSERA_MASTER_KEY: randomBytes(32).toString('base64') }), createLogger('silent'));
    try {
      await s.sqlRecords.upsert('Session', 'old', { jti: 'old' }, 1);
      await s.sqlRecords.upsert('Session', 'live', { jti: 'live' }, 60);
      await s.rateCounter.hit('old', 1);
      await s.rateCounter.hit('live', 60);
      await sleep(1100);
      await s.purgeExpired();
      const count = async (table: string) => Number(((await s.db(table).count({ n: '*' })) as [{ n: number }])[0].n);
      assert.equal(await count('oidc_records'), 1);
      assert.equal(await count('rate_counters'), 1);
    } finally {
      await s.close();
      await backend.dispose();
    }
  });
});
