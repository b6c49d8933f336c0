// Face templates at rest: sealed per row, bound to account and row, deleted for real.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../config/load.js';
import { createLogger } from '../../src/log.js';
import { openServices, type Services } from '../../src/services.js';
import { FaceTemplates } from '../../src/steps/face/face-templates.js';
import { BACKENDS, type Backend } from '../support/backends.js';

const embedding = (seed: number) => Float32Array.from({ length: 128 }, (_, i) => Math.sin(seed * 31 + i) / 8);

for (const makeBackend of BACKENDS) {
  describe(`face templates (${makeBackend.name === 'sqliteBackend' ? 'SQLite' : 'PostgreSQL + Redis'})`, () => {
    let backend: Backend;
    let s: Services;
    let templates: FaceTemplates;

    before(async () => {
      backend = await makeBackend();
      s = await openServices(loadConfig({ ...backend.env, TESSERA_MASTER_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'silent' }), createLogger('silent'));
      templates = FaceTemplates.forMasterKey(s.db, s.masterKey.key);
    });
    after(async () => {
      await s.close();
      await backend.dispose();
    });

    test('embeddings come back exactly; the rows hold only ciphertext', async () => {
      const ana = await s.accounts.create({ username: 'ana' });
      const saved = [embedding(1), embedding(2), embedding(3)];
      await templates.replace(ana.id, saved);
      assert.deepEqual(await templates.list(ana.id), saved);
      const rows = await s.db('face_templates').where({ account_id: ana.id });
      assert.equal(rows.length, 3);
      const raw = Buffer.from(saved[0]!.buffer).toString('base64url');
      for (const row of rows) {
        assert.match(String(row.embedding_sealed), /^v1\./);
        assert.ok(!String(row.embedding_sealed).includes(raw.slice(0, 24)));
      }
      // Enrolling again replaces the set.
      await templates.replace(ana.id, [embedding(4), embedding(5), embedding(6), embedding(7)]);
      assert.equal((await templates.list(ana.id)).length, 4);
    });

    test("a row moved to another account does not open, nor does one read with another master key", async () => {
      const [ben, cy] = [await s.accounts.create({ username: 'ben' }), await s.accounts.create({ username: 'cy' })];
      await templates.replace(ben.id, [embedding(8), embedding(9), embedding(10)]);
      await s.db('face_templates').where({ account_id: ben.id }).update({ account_id: cy.id });
      await assert.rejects(templates.list(cy.id), /cannot decrypt/);
      await s.db('face_templates').where({ account_id: cy.id }).update({ account_id: ben.id });
      await assert.rejects(FaceTemplates.forMasterKey(s.db, randomBytes(32)).list(ben.id), /cannot decrypt/);
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
