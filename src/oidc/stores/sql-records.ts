import type { AdapterPayload } from 'oidc-provider';
import type { Database } from '../../db/database.js';
import { toNumber } from '../../db/database.js';
import { epochSeconds, type RecordStore } from './record-store.js';

interface Row {
  payload: string;
  consumed_at: number | string | null;
}

export class SqlRecordStore implements RecordStore {
  constructor(private readonly db: Database) {}

  private live(model: string) {
    const now = Date.now();
    return this.db('oidc_records')
      .select('payload', 'consumed_at')
      .where({ model })
      .andWhere((q) => q.whereNull('expires_at').orWhere('expires_at', '>', now));
  }

  private static revive(row: Row | undefined): AdapterPayload | undefined {
    if (!row) return undefined;
    const payload = JSON.parse(row.payload) as AdapterPayload;
    const consumedAt = toNumber(row.consumed_at);
    if (consumedAt !== undefined) payload.consumed = epochSeconds(consumedAt);
    return payload;
  }

  async upsert(model: string, id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const row = {
      model,
      id,
      payload: JSON.stringify(payload),
      grant_id: payload.grantId ?? null,
      uid: payload.uid ?? null,
      user_code: payload.userCode ?? null,
      account_id: typeof payload.accountId === 'string' ? payload.accountId : null,
      expires_at: expiresIn ? Date.now() + expiresIn * 1000 : null,
    };
    // consumed_at is left alone on update: only consume() may set it.
    await this.db('oidc_records')
      .insert(row)
      .onConflict(['model', 'id'])
      .merge(['payload', 'grant_id', 'uid', 'user_code', 'account_id', 'expires_at']);
  }

  async find(model: string, id: string) {
    return SqlRecordStore.revive(await this.live(model).andWhere({ id }).first());
  }

  async findByUid(model: string, uid: string) {
    return SqlRecordStore.revive(await this.live(model).andWhere({ uid }).first());
  }

  async findByUserCode(model: string, userCode: string) {
    return SqlRecordStore.revive(await this.live(model).andWhere({ user_code: userCode }).first());
  }

  async consume(model: string, id: string): Promise<boolean> {
    // A conditional UPDATE is atomic on both engines: only one caller sees a changed row.
    const changed = await this.db('oidc_records')
      .where({ model, id })
      .whereNull('consumed_at')
      .update({ consumed_at: Date.now() });
    return changed === 1;
  }

  async destroy(model: string, id: string): Promise<void> {
    await this.db('oidc_records').where({ model, id }).delete();
  }

  async revokeByGrantId(model: string, grantId: string): Promise<void> {
    await this.db('oidc_records').where({ model, grant_id: grantId }).delete();
  }

  async findByAccount(model: string, accountId: string) {
    const rows = (await this.live(model).andWhere({ account_id: accountId })) as Row[];
    return rows.map((row) => SqlRecordStore.revive(row)!);
  }

  /** Removes expired rows; reads already ignore them, this only reclaims space. */
  async purgeExpired(): Promise<number> {
    return this.db('oidc_records').where('expires_at', '<=', Date.now()).delete();
  }
}
