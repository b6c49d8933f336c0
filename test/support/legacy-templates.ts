// Template rows as Tessera wrote them before cancelable templates (migration 010): sealed embeddings.
import { randomUUID } from 'node:crypto';
import { migrationSource } from '../../migrations/index.js';
import type { Database } from '../../src/db/database.js';
import { SealedBox } from '../../src/security/sealed-box.js';

/** Applies the migrations before 010 only, so rows can be written in the old schema. */
export async function migrateBeforeCancelable(db: Database): Promise<void> {
  for (;;) {
    const [, pending] = (await db.migrate.list({ migrationSource })) as [unknown, string[]];
    if (!pending[0] || pending[0] >= '20261204_010') return;
    await db.migrate.up({ migrationSource });
  }
}

/** A face template row of the old format (before or after migration 010: `column` names its sealed value). */
export async function insertLegacyFaceTemplate(db: Database, masterKey: Buffer, accountId: string, embedding: Float32Array, column = 'template_sealed'): Promise<string> {
  const id = randomUUID();
  const sealed = new SealedBox(masterKey, 'face-template').seal(Buffer.from(embedding.buffer, embedding.byteOffset, embedding.byteLength), `${accountId}:${id}`);
  await db('face_templates').insert({ id, account_id: accountId, [column]: sealed, created_at: Date.now() });
  return id;
}

/** The old neural template row: u32 count (1), u32 length, the float32 values, sealed. */
export async function insertLegacyNeuralTemplate(db: Database, masterKey: Buffer, accountId: string, vector: Float32Array, model = 'clinical19'): Promise<void> {
  const plain = Buffer.alloc(8 + vector.length * 4);
  plain.writeUInt32LE(1, 0);
  plain.writeUInt32LE(vector.length, 4);
  vector.forEach((x, i) => plain.writeFloatLE(x, 8 + i * 4));
  const sealed = new SealedBox(masterKey, 'neural-template').seal(plain, accountId);
  await db('neural_templates').insert({ account_id: accountId, template_sealed: sealed, model, windows: 11, created_at: Date.now() });
}
