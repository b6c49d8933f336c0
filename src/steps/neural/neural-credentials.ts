import { createHmac } from 'node:crypto';
import type { Database } from '../../db/database.js';
import type { Recording } from '../../biometrics/neural/recording.js';
import { EMBEDDING_FORMAT, TemplateSealing, type CancelableScheme, type StoredTemplate } from '../../biometrics/cancelable/index.js';
import { deriveSecret, SealedBox } from '../../security/sealed-box.js';

/** An account's enrolled template as stored: cancelable bits, or (enrolled before them) the embedding. */
export interface NeuralTemplate {
  stored: StoredTemplate;
  model: string;
  windows: number;
}

/** What the replay defence keeps of one submitted recording. */
export interface Submission {
  kind: 'enrollment' | 'probe';
  digest: string;
  windows: Float32Array[];
}

// Keep at most this many accepted probes per account (the oldest go first), besides the retention period.
const MAX_PROBES_PER_ACCOUNT = 100;

/** float32 vectors of one length → bytes: u32 count, u32 length, then the values (little-endian). */
function packVectors(vectors: readonly Float32Array[]): Buffer {
  const length = vectors[0]?.length ?? 0;
  const out = Buffer.alloc(8 + vectors.length * length * 4);
  out.writeUInt32LE(vectors.length, 0);
  out.writeUInt32LE(length, 4);
  vectors.forEach((v, i) => v.forEach((x, j) => out.writeFloatLE(x, 8 + (i * length + j) * 4)));
  return out;
}

function unpackVectors(bytes: Buffer): Float32Array[] {
  const count = bytes.readUInt32LE(0);
  const length = bytes.readUInt32LE(4);
  return Array.from({ length: count }, (_, i) => Float32Array.from({ length }, (_, j) => bytes.readFloatLE(8 + (i * length + j) * 4)));
}

/**
 * Neural-signal enrollment templates and the replay defence's memory, per account. Everything
 * biometric is sealed (AES-256-GCM, purpose subkeys, the account id as associated data); the
 * samples themselves are never stored, only a keyed digest of them.
 */
export class NeuralCredentials {
  static forMasterKey(db: Database, masterKey: Buffer): NeuralCredentials {
    const legacy = { box: new SealedBox(masterKey, 'neural-template'), decode: (plain: Buffer) => unpackVectors(plain)[0]! };
    return new NeuralCredentials(db, TemplateSealing.forMasterKey(masterKey, 'neural', legacy), new SealedBox(masterKey, 'neural-submission'), deriveSecret(masterKey, 'neural-digest'));
  }

  constructor(
    private readonly db: Database,
    private readonly sealing: TemplateSealing,
    private readonly submissionBox: SealedBox,
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

  async exists(accountId: string): Promise<boolean> {
    return Boolean(await this.db('neural_templates').select('account_id').where({ account_id: accountId }).first());
  }

  /** Compares probes with this store's templates. */
  get scheme(): CancelableScheme {
    return this.sealing.scheme;
  }

  async template(accountId: string): Promise<NeuralTemplate | undefined> {
    const row = await this.db('neural_templates').where({ account_id: accountId }).first();
    if (!row) return undefined;
    return { stored: this.sealing.open({ format: String(row.format), sealed: String(row.template_sealed) }, accountId), model: row.model, windows: Number(row.windows) };
  }

  /**
   * Replaces a legacy embedding template by a cancelable template of the same embedding. False when
   * the row is no longer a legacy one (re-enrolled or migrated meanwhile).
   */
  async migrate(accountId: string, vector: Float32Array): Promise<boolean> {
    const { format, sealed } = this.sealing.seal(vector, accountId);
    const updated = await this.db('neural_templates').where({ account_id: accountId, format: EMBEDDING_FORMAT }).update({ format, template_sealed: sealed });
    return updated === 1;
  }

  /**
   * Replaces the account's template by a cancelable template of `vector` (a fresh key) and the
   * enrollment recordings remembered against replay.
   */
  async enroll(accountId: string, template: { vector: Float32Array; model: string; windows: number }, submissions: readonly Submission[]): Promise<void> {
    const now = Date.now();
    await this.db.transaction(async (trx) => {
      await trx('neural_submissions').where({ account_id: accountId, kind: 'enrollment' }).delete();
      // A recording enrolled now may have been an accepted probe before: keep one row per digest.
      await trx('neural_submissions').where({ account_id: accountId }).whereIn('digest', submissions.map((s) => s.digest)).delete();
      const { format, sealed } = this.sealing.seal(template.vector, accountId);
      await trx('neural_templates')
        .insert({
          account_id: accountId,
          format,
          template_sealed: sealed,
          model: template.model,
          windows: template.windows,
          created_at: now,
        })
        .onConflict('account_id')
        .merge();
      const unique = new Map(submissions.map((s) => [s.digest, s]));
      for (const s of unique.values()) await trx('neural_submissions').insert(this.row(accountId, template.model, s, now, null));
    });
  }

  private row(accountId: string, model: string, s: Submission, now: number, expiresAt: number | null) {
    return {
      account_id: accountId,
      kind: s.kind,
      digest: s.digest,
      windows_sealed: this.submissionBox.seal(packVectors(s.windows), accountId),
      model,
      created_at: now,
      expires_at: expiresAt,
    };
  }

  /** Recordings this account submitted before (for one model) that the defence still remembers. */
  async previous(accountId: string, model: string): Promise<Submission[]> {
    const rows = await this.db('neural_submissions')
      .select('kind', 'digest', 'windows_sealed')
      .where({ account_id: accountId, model })
      .andWhere((q) => q.whereNull('expires_at').orWhere('expires_at', '>', Date.now()));
    return rows.map((r) => ({ kind: r.kind, digest: r.digest, windows: unpackVectors(this.submissionBox.open(r.windows_sealed, accountId)) }));
  }

  /**
   * Remembers an accepted probe until `expiresAt`. False when the same recording was stored in
   * the meantime (two concurrent submissions: the unique digest lets only one through).
   */
  async rememberProbe(accountId: string, model: string, submission: Submission, expiresAt: number): Promise<boolean> {
    try {
      await this.db('neural_submissions').insert(this.row(accountId, model, submission, Date.now(), expiresAt));
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

  async remove(accountId: string): Promise<void> {
    await this.db.transaction(async (trx) => {
      await trx('neural_submissions').where({ account_id: accountId }).delete();
      await trx('neural_templates').where({ account_id: accountId }).delete();
    });
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
