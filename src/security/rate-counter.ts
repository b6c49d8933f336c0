import type { Redis } from 'ioredis';
import type { Database } from '../db/database.js';
import { toNumber } from '../db/database.js';

/** Fixed-window counters shared by every server process (Redis, else SQL). */
export interface RateCounter {
  /** Adds one and returns the count in the current window and when the window ends. */
  hit(key: string, windowSeconds: number): Promise<{ count: number; resetAt: number }>;
  /** The current counts of several keys, read in one round trip. */
  peek(keys: string[]): Promise<{ count: number; resetAt: number }[]>;
  reset(key: string): Promise<void>;
}

const HIT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}`;

export class RedisRateCounter implements RateCounter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async hit(key: string, windowSeconds: number) {
    const [count, ttl] = (await this.redis.eval(HIT, 1, `${this.prefix}rate:${key}`, String(windowSeconds * 1000))) as [number, number];
    return { count, resetAt: Date.now() + Math.max(ttl, 0) };
  }

  async peek(keys: string[]) {
    const pipeline = this.redis.multi();
    for (const key of keys) pipeline.get(`${this.prefix}rate:${key}`).pttl(`${this.prefix}rate:${key}`);
    const replies = (await pipeline.exec()) as [unknown, string | number | null][];
    return keys.map((_, i) => ({ count: Number(replies[2 * i]![1] ?? 0), resetAt: Date.now() + Math.max(Number(replies[2 * i + 1]![1]), 0) }));
  }

  async reset(key: string) {
    await this.redis.del(`${this.prefix}rate:${key}`);
  }
}

export class SqlRateCounter implements RateCounter {
  constructor(private readonly db: Database) {}

  async hit(key: string, windowSeconds: number) {
    const now = Date.now();
    const fresh = now + windowSeconds * 1000;
    // One statement on both engines: a new or expired window restarts at 1, else increments.
    const [row] = await this.db.raw(
      `insert into rate_counters (key, count, expires_at) values (?, 1, ?)
       on conflict (key) do update set
         count = case when rate_counters.expires_at <= ? then 1 else rate_counters.count + 1 end,
         expires_at = case when rate_counters.expires_at <= ? then ? else rate_counters.expires_at end
       returning count, expires_at`,
      [key, fresh, now, now, fresh],
    ).then((r: unknown) => (Array.isArray(r) ? r : (r as { rows: unknown[] }).rows) as { count: number; expires_at: unknown }[]);
    return { count: Number(row!.count), resetAt: toNumber(row!.expires_at)! };
  }

  async peek(keys: string[]) {
    const rows = await this.db('rate_counters').whereIn('key', keys).andWhere('expires_at', '>', Date.now());
    return keys.map((key) => {
      const row = rows.find((r) => r.key === key);
      return row ? { count: Number(row.count), resetAt: toNumber(row.expires_at)! } : { count: 0, resetAt: 0 };
    });
  }

  async reset(key: string) {
    await this.db('rate_counters').where({ key }).delete();
  }

  async purgeExpired() {
    return this.db('rate_counters').where('expires_at', '<=', Date.now()).delete();
  }
}
