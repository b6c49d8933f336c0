import type { Knex } from 'knex';

// Cancelable biometric templates: every template row says what its sealed value holds. Rows from
// before are sealed embeddings ('embedding'); they keep working and are replaced by cancelable
// templates ('cancelable-v1': keyed sign bits, see src/biometrics/cancelable/) at the account's
// next successful sign-in. The face column is renamed, since it no longer holds an embedding.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('face_templates', (t) => {
    t.renameColumn('embedding_sealed', 'template_sealed');
  });
  for (const table of ['face_templates', 'neural_templates']) {
    await knex.schema.alterTable(table, (t) => {
      t.string('format', 32).notNullable().defaultTo('embedding');
    });
  }
}

// Cancelable rows cannot be turned back into embeddings: going down drops them (those accounts
// enrol again), and keeps the legacy rows.
export async function down(knex: Knex): Promise<void> {
  for (const table of ['face_templates', 'neural_templates']) {
    await knex(table).whereNot({ format: 'embedding' }).delete();
    await knex.schema.alterTable(table, (t) => {
      t.dropColumn('format');
    });
  }
  await knex.schema.alterTable('face_templates', (t) => {
    t.renameColumn('template_sealed', 'embedding_sealed');
  });
}
