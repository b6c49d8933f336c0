import { randomUUID } from 'node:crypto';
import type { Database } from '../../db/database.js';
import { SealedBox } from '../../security/sealed-box.js';

/** An account's enrolled face embeddings, sealed at rest; never leave the server. */
export class FaceTemplates {
  static forMasterKey(db: Database, masterKey: Buffer): FaceTemplates {
    return new FaceTemplates(db, new SealedBox(masterKey, 'face-template'));
  }

  constructor(
    private readonly db: Database,
    private readonly box: SealedBox,
  ) {}

  async exists(accountId: string): Promise<boolean> {
    return Boolean(await this.db('face_templates').select('id').where({ account_id: accountId }).first());
  }

  async list(accountId: string): Promise<Float32Array[]> {
    const rows = await this.db('face_templates').select('id', 'embedding_sealed').where({ account_id: accountId });
    return rows.map((row) => {
      const plain = this.box.open(String(row.embedding_sealed), `${accountId}:${row.id}`);
      return new Float32Array(plain.buffer, plain.byteOffset, plain.byteLength / 4).slice();
    });
  }

  /** Replaces the account's templates with these embeddings, in one transaction. */
  async replace(accountId: string, embeddings: readonly Float32Array[]): Promise<void> {
    const now = Date.now();
    const rows = embeddings.map((embedding) => {
      const id = randomUUID();
      const plain = Buffer.from(embedding.buffer, embedding.byteOffset, embedding.byteLength);
      return { id, account_id: accountId, embedding_sealed: this.box.seal(plain, `${accountId}:${id}`), created_at: now };
    });
    await this.db.transaction(async (trx) => {
      await trx('face_templates').where({ account_id: accountId }).delete();
      await trx('face_templates').insert(rows);
    });
  }

  /** Deletes every template of the account; returns how many rows went. */
  async remove(accountId: string): Promise<number> {
    return this.db('face_templates').where({ account_id: accountId }).delete();
  }
}
