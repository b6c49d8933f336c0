import { createHmac } from 'node:crypto';
import type { Knex } from 'knex';
import type { Database } from '../../db/database.js';
import type { Recording } from '../../biometrics/neural/recording.js';
import type { Logger } from '../../log.js';
import { deriveSecret, SealedBox } from '../../security/sealed-box.js';
import { SealedMemory } from '../../security/sealed-memory.js';
import { packFingerprint, type SignalFingerprint } from './signal-fingerprint.js';

/** What the replay defence keeps of one submitted recording. */
export interface Submission {
  kind: 'enrollment' | 'probe';
  digest: string;
  /** Absent for rows stored before fingerprints existed: those match only exactly. */
  fingerprint?: SignalFingerprint;
}

/**
 * A submission as read back, its fingerprint still packed: the replay worker unpacks it, since
 * copying a hundred fingerprints' thousands of arrays to the thread cost more than the search.
 */
export interface StoredSubmission {
  kind: Submission['kind'];
  digest: string;
  fingerprint?: Uint8Array;
}

// Keep at most this many accepted probes per account (the oldest go first), besides the retention period.
const MAX_PROBES_PER_ACCOUNT = 100;

/**
 * The recordings an account has submitted (`neural_submissions`): a keyed digest of the samples and
 * a sealed signal fingerprint (AES-256-GCM, purpose subkey, the account id as associated data).
 * The unique (account, digest) index makes two concurrent submissions of one recording count once.
 */
export class ReplayMemory {
  static forMasterKey(db: Database, masterKey: Buffer, log: Logger): ReplayMemory {
    return new ReplayMemory(db, new SealedMemory(new SealedBox(masterKey, 'neural-fingerprint'), log), deriveSecret(masterKey, 'neural-digest'));
  }

  constructor(
    private readonly db: Database,
    private readonly fingerprints: SealedMemory,
    private readonly digestKey: string,
  ) {}

  /**
   * Keyed digest of a recording's samples (montage-selected, canonical labels): the same samples
   * give the same digest whatever the file format, channel order or extra channels.
   */
  digest(recording: Recording): string {
    const hmac = createHmac('sha256', this.digestKey).update(`${recording.sampleRate}\n`);
    for (const channel of recording.channels) {
      hmac.update(`${channel.label}\n`);
      hmac.update(new Uint8Array(channel.samples.buffer, channel.samples.byteOffset, channel.samples.byteLength));
    }
    return hmac.digest('hex');
  }

  /** Within an enrollment's transaction: the account's enrollment recordings become these. */
  async replaceEnrollment(trx: Knex.Transaction, accountId: string, montage: string, submissions: readonly Submission[]): Promise<void> {
    const now = Date.now();
    await trx('neural_submissions').where({ account_id: accountId, kind: 'enrollment' }).delete();
    // A recording enrolled now may have been an accepted probe before: keep one row per digest.
    await trx('neural_submissions').where({ account_id: accountId }).whereIn('digest', submissions.map((s) => s.digest)).delete();
    const unique = new Map(submissions.map((s) => [s.digest, s]));
    for (const s of unique.values()) await trx('neural_submissions').insert(this.row(accountId, montage, s, now, null));
  }

  // The `model` column holds the montage: fingerprints do not depend on the model (v1 ids were montage names).
  private row(accountId: string, montage: string, s: Submission, now: number, expiresAt: number | null) {
    return {
      account_id: accountId,
      kind: s.kind,
      digest: s.digest,
      fingerprint_sealed: s.fingerprint ? this.fingerprints.seal(packFingerprint(s.fingerprint), accountId) : null,
      model: montage,
      created_at: now,
      expires_at: expiresAt,
    };
  }

  /** Recordings this account submitted before (on one montage) that the defence still remembers. */
  async previous(accountId: string, montage: string): Promise<StoredSubmission[]> {
    const rows = await this.db('neural_submissions')
      .select('kind', 'digest', 'fingerprint_sealed')
      .where({ account_id: accountId, model: montage })
      .andWhere((q) => q.whereNull('expires_at').orWhere('expires_at', '>', Date.now()))
      .orderBy('id');
    // A fingerprint that cannot be opened (another master key, a damaged row) leaves its row matching only exactly.
    return rows.map((r) => {
      const fingerprint = r.fingerprint_sealed ? this.fingerprints.open(r.fingerprint_sealed, accountId) : undefined;
      return { kind: r.kind, digest: r.digest, ...(fingerprint ? { fingerprint } : {}) };
    });
  }

  /**
   * Remembers an accepted probe until `expiresAt`. False when the same recording was stored in
   * the meantime (two concurrent submissions: the unique digest lets only one through).
   */
  async rememberProbe(accountId: string, montage: string, submission: Submission, expiresAt: number): Promise<boolean> {
    try {
      await this.db('neural_submissions').insert(this.row(accountId, montage, submission, Date.now(), expiresAt));
    } catch (err) {
      if (/unique|duplicate/i.test((err as Error).message)) return false;
      throw err;
    }
    const stale = await this.db('neural_submissions')
      .select('id')
      .where({ account_id: accountId, kind: 'probe' })
      .orderBy('id', 'desc')
      .offset(MAX_PROBES_PER_ACCOUNT);
    if (stale.length) await this.db('neural_submissions').whereIn('id', stale.map((r) => r.id)).delete();
    return true;
  }

  /** Within a removal's transaction: everything remembered for the account. */
  async forget(trx: Knex.Transaction, accountId: string): Promise<void> {
    await trx('neural_submissions').where({ account_id: accountId }).delete();
  }

  /** Forgets probes past their retention period. */
  async purgeExpired(): Promise<number> {
    return this.db('neural_submissions').where('expires_at', '<=', Date.now()).delete();
  }

  /** When a probe accepted now must be forgotten. */
  static expiry(retentionDays: number, now = Date.now()): number {
    return now + retentionDays * 24 * 3600 * 1000;
  }
}
