import type { ChainableCommander, Redis } from 'ioredis';
import type { AdapterPayload } from 'oidc-provider';
import { accountIndexedModels, epochSeconds, type RecordStore } from './record-store.js';

// Marks a record consumed exactly once and gives the marker the record's remaining TTL.
// Returns 1 for the first caller, 0 if already consumed, -1 if the record is gone.
const CONSUME = `
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 then return -1 end
local ok
if ttl > 0 then
  ok = redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ttl)
else
  ok = redis.call('SET', KEYS[2], ARGV[1], 'NX')
end
if ok then return 1 end
return 0`;

// Deletes the members of a grant's index that belong to one model (prefix match).
const REVOKE = `
local members = redis.call('SMEMBERS', KEYS[1])
for _, key in ipairs(members) do
  if string.sub(key, 1, string.len(ARGV[1])) == ARGV[1] then
    redis.call('DEL', key, key .. ':consumed')
    redis.call('SREM', KEYS[1], key)
  end
end
return #members`;

// Follows a uid/userCode index to its record in one round trip: { payload, consumed marker }.
const FIND_BY_INDEX = `
local id = redis.call('GET', KEYS[1])
if not id then return nil end
local key = ARGV[1] .. id
return { redis.call('GET', key), redis.call('GET', key .. ':consumed') }`;

export class RedisRecordStore implements RecordStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(model: string, id: string) {
    return `${this.prefix}${model}:${id}`;
  }

  private grantKey(grantId: string) {
    return `${this.prefix}grant:${grantId}`;
  }

  private accountKey(model: string, accountId: string) {
    return `${this.prefix}account:${accountId}:${model}`;
  }

  private indexKey(model: string, kind: 'uid' | 'userCode', value: string) {
    return `${this.prefix}${model}:${kind}:${value}`;
  }

  async upsert(model: string, id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const key = this.key(model, id);
    const tx = this.redis.multi();
    const ttl = expiresIn && expiresIn > 0 ? expiresIn : undefined;
    const set = (k: string, v: string) => (ttl ? tx.set(k, v, 'EX', ttl) : tx.set(k, v));
    set(key, JSON.stringify(payload));
    if (payload.uid) set(this.indexKey(model, 'uid', payload.uid), id);
    if (payload.userCode) set(this.indexKey(model, 'userCode', payload.userCode), id);
    if (payload.grantId) addToSet(tx, this.grantKey(payload.grantId), key, ttl);
    if (accountIndexedModels.has(model) && typeof payload.accountId === 'string') addToSet(tx, this.accountKey(model, payload.accountId), id, ttl);
    await tx.exec();
  }

  async find(model: string, id: string) {
    const key = this.key(model, id);
    return parsed(await this.redis.mget(key, `${key}:consumed`));
  }

  private async findByIndex(model: string, kind: 'uid' | 'userCode', value: string) {
    const found = (await this.redis.eval(FIND_BY_INDEX, 1, this.indexKey(model, kind, value), this.key(model, ''))) as (string | null)[] | null;
    return found ? parsed(found) : undefined;
  }

  findByUid(model: string, uid: string) {
    return this.findByIndex(model, 'uid', uid);
  }

  findByUserCode(model: string, userCode: string) {
    return this.findByIndex(model, 'userCode', userCode);
  }

  async consume(model: string, id: string): Promise<boolean> {
    const key = this.key(model, id);
    const result = await this.redis.eval(CONSUME, 2, key, `${key}:consumed`, String(epochSeconds()));
    return result === 1;
  }

  async destroy(model: string, id: string): Promise<void> {
    const key = this.key(model, id);
    await this.redis.del(key, `${key}:consumed`);
  }

  async findByAccount(model: string, accountId: string) {
    const setKey = this.accountKey(model, accountId);
    const ids = await this.redis.smembers(setKey);
    if (!ids.length) return [];
    const values = await this.redis.mget(ids.map((id) => this.key(model, id)));
    const found: AdapterPayload[] = [];
    const gone: string[] = [];
    values.forEach((value, i) => {
      const payload = value ? (JSON.parse(value) as AdapterPayload) : undefined;
      // Expired, destroyed, or since re-used by another account (a session signing in as someone else).
      if (payload?.accountId === accountId) found.push(payload);
      else gone.push(ids[i]!);
    });
    if (gone.length) await this.redis.srem(setKey, ...gone);
    return found;
  }

  async revokeByGrantId(model: string, grantId: string): Promise<void> {
    await this.redis.eval(REVOKE, 1, this.grantKey(grantId), this.key(model, ''));
  }
}

/** Adds to an index set that lives as long as its longest-lived member, never forever. */
function addToSet(tx: ChainableCommander, setKey: string, member: string, ttl: number | undefined) {
  tx.sadd(setKey, member);
  if (ttl) {
    tx.expire(setKey, ttl, 'NX');
    tx.expire(setKey, ttl, 'GT');
  }
}

function parsed([payload, consumed]: (string | null | undefined)[]): AdapterPayload | undefined {
  if (!payload) return undefined;
  const record = JSON.parse(payload) as AdapterPayload;
  if (consumed) record.consumed = Number(consumed);
  return record;
}
