// Face templates at rest: cancelable (keyed bits, no embedding), sealed per row, revocable by
// re-enrolment, unlinkable across master keys, legacy embedding rows migrated; deleted for real.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../config/load.js';
import { chordOfAngle, decodeTemplate, hammingFraction, type CancelableTemplate, type StoredTemplate } from '../../src/biometrics/cancelable/index.js';
import { migrate } from '../../src/db/database.js';
import { createLogger } from '../../src/log.js';
import { SealedBox } from '../../src/security/sealed-box.js';
import { openServices, type Services } from '../../src/services.js';
import { FaceTemplates } from '../../src/steps/face/face-templates.js';
import { NeuralCredentials } from '../../src/steps/neural/neural-credentials.js';
import { BACKENDS, type Backend } from '../support/backends.js';
import { insertLegacyFaceTemplate, insertLegacyNeuralTemplate, migrateBeforeCancelable } from '../support/legacy-templates.js';

const THRESHOLD = 0.38;
const embedding = (seed: number) => {
  const v = Float32Array.from({ length: 128 }, (_, i) => Math.sin(seed * 31 + i * (1 + seed / 7)));
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
};
const cancelable = (t: StoredTemplate): CancelableTemplate => {
  assert.equal(t.kind, 'cancelable');
  return (t as { template: CancelableTemplate }).template;
};

for (const makeBackend of BACKENDS) {
  describe(`face templates (${makeBackend.name === 'sqliteBackend' ? 'SQLite' : 'PostgreSQL + Redis'})`, () => {
    let backend: Backend;
    let s: Services;
    let templates: FaceTemplates;
    let key: Buffer;
    const distance = (probe: Float32Array, t: StoredTemplate) => chordOfAngle(templates.scheme.angleTo(probe, t));

    before(async () => {
      backend = await makeBackend();
      s = await openServices(loadConfig({ ...backend.env, TESSERA_MASTER_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'silent' }), createLogger('silent'), { migrate: false });
      key = s.masterKey.key;
      templates = FaceTemplates.forMasterKey(s.db, key);
    });
    after(async () => {
      await s.close();
      await backend.dispose();
    });

    test('rows from before migration 010 keep working as embeddings and migrate to cancelable templates', async () => {
      await migrateBeforeCancelable(s.db);
      const old = await s.accounts.create({ username: 'old' });
      const saved = [embedding(20), embedding(21), embedding(22)];
      const ids: string[] = [];
      for (const e of saved) ids.push(await insertLegacyFaceTemplate(s.db, key, old.id, e, 'embedding_sealed'));
      await insertLegacyNeuralTemplate(s.db, key, old.id, embedding(23));
      await migrate(s.db);

      const legacy = await templates.list(old.id);
      assert.deepEqual(legacy.map((l) => l.template), saved.map((vector) => ({ kind: 'embedding', vector })));
      assert.deepEqual((await NeuralCredentials.forMasterKey(s.db, key, s.log).template(old.id))?.stored, { kind: 'embedding', vector: embedding(23) });
      assert.ok(await templates.migrate(old.id, legacy.map((l) => ({ id: l.id, vector: (l.template as { vector: Float32Array }).vector }))));
      const rows = await s.db('face_templates').where({ account_id: old.id });
      assert.deepEqual(rows.map((r) => r.format), ['cancelable-v1', 'cancelable-v1', 'cancelable-v1']);
      assert.ok(rows.every((r) => !ids.includes(r.id)), 'the embedding rows are gone');
      const migrated = await templates.list(old.id);
      assert.ok(saved.every((e) => Math.min(...migrated.map((m) => distance(e, m.template))) < 0.1));
      // Rows that changed meanwhile (a concurrent migration or re-enrolment) are left as they are.
      assert.equal(await templates.migrate(old.id, legacy.map((l) => ({ id: l.id, vector: saved[0]! }))), false);
      assert.equal((await s.db('face_templates').where({ account_id: old.id })).length, 3);
    });

    test('new templates are keyed bits: no embedding in the rows, the owner matches, others do not', async () => {
      const ana = await s.accounts.create({ username: 'ana' });
      const saved = [embedding(1), embedding(2), embedding(3)];
      await templates.replace(ana.id, saved);
      const rows = await s.db('face_templates').where({ account_id: ana.id });
      assert.equal(rows.length, 3);
      for (const row of rows) {
        assert.equal(row.format, 'cancelable-v1');
        assert.match(String(row.template_sealed), /^v1\./, 'sealed at rest');
        const stored = decodeTemplate(new SealedBox(key, 'face-cancelable-template').open(String(row.template_sealed), `${ana.id}:${row.id}`));
        assert.equal(stored.dimensions, 128);
        assert.equal(stored.bits.length, stored.bitCount / 8);
        for (const e of saved) for (let i = 0; i < e.length; i++) assert.equal(Buffer.from(stored.bits).indexOf(Buffer.from(e.buffer, i * 4, 4)), -1);
      }
      const enrolled = (await templates.list(ana.id)).map((e) => e.template);
      assert.ok(saved.every((e) => Math.min(...enrolled.map((t) => distance(e, t))) < 0.1));
      assert.ok(Math.min(...enrolled.map((t) => distance(embedding(9), t))) > THRESHOLD);
    });

    test('re-enrolment issues new keys: the old templates no longer match the same person', async () => {
      const bo = await s.accounts.create({ username: 'bo' });
      const saved = [embedding(4), embedding(5), embedding(6)];
      await templates.replace(bo.id, saved);
      const before = (await templates.list(bo.id)).map((e) => cancelable(e.template));
      await templates.replace(bo.id, saved);
      const after = await templates.list(bo.id);
      assert.equal(after.length, 3);
      for (const old of before) {
        for (const fresh of after.map((e) => cancelable(e.template))) {
          assert.ok(!old.salt.equals(fresh.salt), 'a new key per template');
          // A copy of an old template compared with the new ones, bits against bits: no match.
          assert.ok(chordOfAngle(Math.PI * hammingFraction(old.bits, fresh.bits, old.bitCount)) > THRESHOLD);
        }
      }
      assert.equal(Number((await s.db('face_templates').where({ account_id: bo.id }).count({ n: '*' }))[0]!.n), 3, 'the old rows were deleted');
    });

    test("another deployment's templates (another master key) do not match, nor open", async () => {
      const cy = await s.accounts.create({ username: 'cy' });
      const otherDeployment = FaceTemplates.forMasterKey(s.db, randomBytes(32));
      await otherDeployment.replace(cy.id, [embedding(7), embedding(8), embedding(10)]);
      await assert.rejects(templates.list(cy.id), /cannot decrypt/);
      // Even with its sealing taken off, the owner's own embedding does not match under this deployment's keys.
      for (const { template } of await otherDeployment.list(cy.id)) assert.ok(distance(embedding(7), template) > THRESHOLD);
    });

    test('a row moved to another account does not open', async () => {
      const [ben, dan] = [await s.accounts.create({ username: 'ben' }), await s.accounts.create({ username: 'dan' })];
      await templates.replace(ben.id, [embedding(8), embedding(9), embedding(10)]);
      await s.db('face_templates').where({ account_id: ben.id }).update({ account_id: dan.id });
      await assert.rejects(templates.list(dan.id), /cannot decrypt/);
    });

    test('removal deletes the rows', async () => {
      const dee = await s.accounts.create({ username: 'dee' });
      await templates.replace(dee.id, [embedding(11), embedding(12), embedding(13)]);
      assert.equal(await templates.remove(dee.id), 3);
      assert.equal(await templates.exists(dee.id), false);
      assert.equal(Number((await s.db('face_templates').where({ account_id: dee.id }).count({ n: '*' }))[0]!.n), 0);
      assert.equal(await templates.remove(dee.id), 0);
    });
  });
}
