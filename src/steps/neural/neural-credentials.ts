import type { Database } from '../../db/database.js';
import { EMBEDDING_FORMAT, TemplateSealing, type CancelableScheme, type StoredTemplate } from '../../biometrics/cancelable/index.js';
import type { Logger } from '../../log.js';
import { SealedBox } from '../../security/sealed-box.js';
import { ReplayMemory, type Submission } from './replay-memory.js';
import type { NeuralModel } from '../../biometrics/neural/model-catalog.js';

/** An account's enrolled template as stored: cancelable bits, or (enrolled before them) the embedding. */
export interface NeuralTemplate {
  stored: StoredTemplate;
  model: string;
  windows: number;
}

/** Legacy rows: float32 vectors, u32 count, u32 length, then the values (little-endian); the template is the first. */
function firstVector(bytes: Buffer): Float32Array {
  const length = bytes.readUInt32LE(4);
  return Float32Array.from({ length }, (_, j) => bytes.readFloatLE(8 + j * 4));
}

/**
 * Neural-signal enrollment templates (cancelable, sealed: AES-256-GCM, purpose subkey, the account
 * id as associated data), and the replay defence's memory of the account's recordings, which an
 * enrollment replaces and a removal deletes in the same transaction.
 */
export class NeuralCredentials {
  static forMasterKey(db: Database, masterKey: Buffer, log: Logger): NeuralCredentials {
    const legacy = { box: new SealedBox(masterKey, 'neural-template'), decode: firstVector };
    return new NeuralCredentials(db, TemplateSealing.forMasterKey(masterKey, 'neural', legacy), ReplayMemory.forMasterKey(db, masterKey, log));
  }

  constructor(
    private readonly db: Database,
    private readonly sealing: TemplateSealing,
    readonly replay: ReplayMemory,
  ) {}

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
  async enroll(accountId: string, template: { vector: Float32Array; model: NeuralModel; windows: number }, submissions: readonly Submission[]): Promise<void> {
    await this.db.transaction(async (trx) => {
      const { format, sealed } = this.sealing.seal(template.vector, accountId);
      await trx('neural_templates')
        .insert({ account_id: accountId, format, template_sealed: sealed, model: template.model.id, windows: template.windows, created_at: Date.now() })
        .onConflict('account_id')
        .merge();
      await this.replay.replaceEnrollment(trx, accountId, template.model.montage, submissions);
    });
  }

  async remove(accountId: string): Promise<void> {
    await this.db.transaction(async (trx) => {
      await this.replay.forget(trx, accountId);
      await trx('neural_templates').where({ account_id: accountId }).delete();
    });
  }
}
