import { randomUUID } from 'node:crypto';
import { EMBEDDING_FORMAT, TemplateSealing, type CancelableScheme, type StoredTemplate } from '../../biometrics/cancelable/index.js';
import type { Database } from '../../db/database.js';
import { SealedBox } from '../../security/sealed-box.js';

/** One template row of an account. */
export interface EnrolledFace {
  readonly id: string;
  readonly template: StoredTemplate;
}

/**
 * An account's enrolled faces: cancelable templates (keyed sign bits of an embedding, each row with
 * its own key), sealed at rest and bound to account and row; rows enrolled before them hold the
 * sealed embedding until the account's next successful sign-in replaces them.
 */
export class FaceTemplates {
  static forMasterKey(db: Database, masterKey: Buffer): FaceTemplates {
    const legacy = { box: new SealedBox(masterKey, 'face-template'), decode: (plain: Buffer) => new Float32Array(plain.buffer, plain.byteOffset, plain.byteLength / 4).slice() };
    return new FaceTemplates(db, TemplateSealing.forMasterKey(masterKey, 'face', legacy));
  }

  constructor(
    private readonly db: Database,
    private readonly sealing: TemplateSealing,
  ) {}

  /** Compares probes with this store's templates. */
  get scheme(): CancelableScheme {
    return this.sealing.scheme;
  }

  async exists(accountId: string): Promise<boolean> {
    return Boolean(await this.db('face_templates').select('id').where({ account_id: accountId }).first());
  }

  async list(accountId: string): Promise<EnrolledFace[]> {
    const rows = await this.db('face_templates').select('id', 'format', 'template_sealed').where({ account_id: accountId });
    return rows.map((row) => ({ id: String(row.id), template: this.sealing.open({ format: String(row.format), sealed: String(row.template_sealed) }, `${accountId}:${row.id}`) }));
  }

  /** Replaces the account's templates with cancelable templates of these embeddings (fresh keys), in one transaction. */
  async replace(accountId: string, embeddings: readonly Float32Array[]): Promise<void> {
    await this.db.transaction(async (trx) => {
      await trx('face_templates').where({ account_id: accountId }).delete();
      await trx('face_templates').insert(this.rows(accountId, embeddings));
    });
  }

  /**
   * Replaces legacy embedding rows by cancelable templates of the same embeddings. False (and
   * nothing written) when those rows changed meanwhile, e.g. by a concurrent re-enrolment.
   */
  async migrate(accountId: string, legacy: readonly { id: string; vector: Float32Array }[]): Promise<boolean> {
    const changed = new Error('templates changed meanwhile');
    try {
      await this.db.transaction(async (trx) => {
        const deleted = await trx('face_templates').where({ account_id: accountId, format: EMBEDDING_FORMAT }).whereIn('id', legacy.map((l) => l.id)).delete();
        // Throwing rolls the deletion back.
        if (deleted !== legacy.length) throw changed;
        await trx('face_templates').insert(this.rows(accountId, legacy.map((l) => l.vector)));
      });
      return true;
    } catch (err) {
      if (err === changed) return false;
      throw err;
    }
  }

  /** Deletes every template of the account; returns how many rows went. */
  async remove(accountId: string): Promise<number> {
    return this.db('face_templates').where({ account_id: accountId }).delete();
  }

  private rows(accountId: string, embeddings: readonly Float32Array[]) {
    const now = Date.now();
    return embeddings.map((embedding) => {
      const id = randomUUID();
      const { format, sealed } = this.sealing.seal(embedding, `${accountId}:${id}`);
      return { id, account_id: accountId, format, template_sealed: sealed, created_at: now };
    });
  }
}
