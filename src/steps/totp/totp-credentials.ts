import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import type { Database } from '../../db/database.js';
import { toNumber } from '../../db/database.js';
import { deriveSecret, SealedBox } from '../../security/sealed-box.js';

export interface TotpCredential {
  secret: string;
  algorithm: 'sha1' | 'sha256' | 'sha512';
  digits: number;
  period: number;
  lastTimeStep?: number;
}

const RECOVERY_CODES = 10;
// Unambiguous alphabet (no 0/O, 1/I/L): codes are read off paper.
const ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';

const normaliseCode = (code: string) => code.toUpperCase().replace(/[^0-9A-Z]/g, '');

/** TOTP secrets (sealed) and single-use recovery codes (hashed), per account. */
export class TotpCredentials {
  /** The store as every process derives it from the master key. */
  static forMasterKey(db: Database, masterKey: Buffer): TotpCredentials {
    return new TotpCredentials(db, new SealedBox(masterKey, 'totp-secret'), deriveSecret(masterKey, 'recovery-codes'));
  }

  constructor(
    private readonly db: Database,
    private readonly box: SealedBox,
    private readonly codeKey: string,
  ) {}

  async get(accountId: string): Promise<TotpCredential | undefined> {
    const row = await this.db('totp_credentials').where({ account_id: accountId }).first();
    if (!row) return undefined;
    return {
      secret: this.box.open(row.secret_sealed, accountId).toString('utf8'),
      algorithm: row.algorithm,
      digits: Number(row.digits),
      period: Number(row.period),
      lastTimeStep: toNumber(row.last_time_step),
    };
  }

  async exists(accountId: string): Promise<boolean> {
    return Boolean(await this.db('totp_credentials').select('account_id').where({ account_id: accountId }).first());
  }

  /** Stores a confirmed credential (replacing any old one) with the time step that confirmed it. */
  async save(accountId: string, credential: TotpCredential, confirmedTimeStep: number): Promise<void> {
    const row = {
      account_id: accountId,
      secret_sealed: this.box.seal(credential.secret, accountId),
      algorithm: credential.algorithm,
      digits: credential.digits,
      period: credential.period,
      last_time_step: confirmedTimeStep,
      created_at: Date.now(),
    };
    await this.db('totp_credentials').insert(row).onConflict('account_id').merge();
  }

  /**
   * Accepts a time step only if it is newer than every one accepted before: a single
   * conditional UPDATE, so two processes cannot both accept the same code.
   */
  async claimTimeStep(accountId: string, timeStep: number): Promise<boolean> {
    const changed = await this.db('totp_credentials')
      .where({ account_id: accountId })
      .andWhere((q) => q.whereNull('last_time_step').orWhere('last_time_step', '<', timeStep))
      .update({ last_time_step: timeStep });
    return changed === 1;
  }

  async remove(accountId: string): Promise<void> {
    await this.db.transaction(async (trx) => {
      await trx('recovery_codes').where({ account_id: accountId }).delete();
      await trx('totp_credentials').where({ account_id: accountId }).delete();
    });
  }

  private hash(code: string): string {
    return createHmac('sha256', this.codeKey).update(normaliseCode(code)).digest('hex');
  }

  /** Replaces the account's recovery codes; the plain codes are returned once and never stored. */
  async issueRecoveryCodes(accountId: string): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODES }, () => {
      const raw = Array.from({ length: 10 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
      return `${raw.slice(0, 5)}-${raw.slice(5)}`;
    });
    const now = Date.now();
    await this.db.transaction(async (trx) => {
      await trx('recovery_codes').where({ account_id: accountId }).delete();
      await trx('recovery_codes').insert(codes.map((c) => ({ account_id: accountId, code_hash: this.hash(c), created_at: now })));
    });
    return codes;
  }

  /** Uses up one recovery code; true once per code, even under concurrent attempts. */
  async useRecoveryCode(accountId: string, code: string): Promise<boolean> {
    const wanted = Buffer.from(this.hash(code), 'hex');
    const rows = await this.db('recovery_codes').select('id', 'code_hash').where({ account_id: accountId }).whereNull('used_at');
    const match = rows.find((r) => timingSafeEqual(Buffer.from(String(r.code_hash), 'hex'), wanted));
    if (!match) return false;
    const changed = await this.db('recovery_codes').where({ id: match.id }).whereNull('used_at').update({ used_at: Date.now() });
    return changed === 1;
  }

  async remainingRecoveryCodes(accountId: string): Promise<number> {
    const [{ n }] = (await this.db('recovery_codes').where({ account_id: accountId }).whereNull('used_at').count({ n: '*' })) as [{ n: number | string }];
    return Number(n);
  }
}
