import type { Database } from '../../db/database.js';
import { SealedBox } from '../../security/sealed-box.js';
import { ReplayMemory, type Submission } from './replay-memory.js';

export interface NeuralTemplate {
  vector: Float32Array;
  model: string;
  windows: number;
}

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
 * Neural-signal enrollment templates, sealed (AES-256-GCM, purpose subkey, the account id as
 * associated data), and the replay defence's memory of the account's recordings, which an
 * enrollment replaces and a removal deletes in the same transaction.
 */
export class NeuralCredentials {
  static forMasterKey(db: Database, masterKey: Buffer): NeuralCredentials {
    return new NeuralCredentials(db, new SealedBox(masterKey, 'neural-template'), ReplayMemory.forMasterKey(db, masterKey));
  }

  constructor(
    private readonly db: Database,
    private readonly templateBox: SealedBox,
    readonly replay: ReplayMemory,
  ) {}

  async exists(accountId: string): Promise<boolean> {
    return Boolean(await this.db('neural_templates').select('account_id').where({ account_id: accountId }).first());
  }

  async template(accountId: string): Promise<NeuralTemplate | undefined> {
    const row = await this.db('neural_templates').where({ account_id: accountId }).first();
    if (!row) return undefined;
    const [vector] = unpackVectors(this.templateBox.open(row.template_sealed, accountId));
    return { vector: vector!, model: row.model, windows: Number(row.windows) };
  }

  /** Replaces the account's template and the enrollment recordings remembered against replay. */
  async enroll(accountId: string, template: NeuralTemplate, submissions: readonly Submission[]): Promise<void> {
    await this.db.transaction(async (trx) => {
      await trx('neural_templates')
        .insert({
          account_id: accountId,
          template_sealed: this.templateBox.seal(packVectors([template.vector]), accountId),
          model: template.model,
          windows: template.windows,
          created_at: Date.now(),
        })
        .onConflict('account_id')
        .merge();
      await this.replay.replaceEnrollment(trx, accountId, template.model, submissions);
    });
  }

  async remove(accountId: string): Promise<void> {
    await this.db.transaction(async (trx) => {
      await this.replay.forget(trx, accountId);
      await trx('neural_templates').where({ account_id: accountId }).delete();
    });
  }
}
