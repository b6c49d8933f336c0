import type { TestServer } from './server.js';

/** Counts the provider records a server holds, in SQL and (when configured) Redis. */
export async function countRecords(server: TestServer): Promise<number> {
  const [{ n }] = (await server.services.db('oidc_records').count({ n: '*' })) as [{ n: number | string }];
  const redisKeys = server.services.redis ? (await server.services.redis.keys(`${server.config.redisPrefix}*`)).length : 0;
  return Number(n) + redisKeys;
}

/** Makes one stored record expire now, the way its store would once its TTL ran out. */
export async function expireRecord(server: TestServer, model: string, id: string): Promise<void> {
  const { redis, db } = server.services;
  if (redis) await redis.pexpire(`${server.config.redisPrefix}${model}:${id}`, 1);
  else await db('oidc_records').where({ model, id }).update({ expires_at: Date.now() - 1 });
  await new Promise((r) => setTimeout(r, 5));
}
