import type { Knex } from 'knex';

// Face templates: several embeddings per account (one per enrolled frame), each sealed with the
// master key (purpose "face-template", bound to the account and row id). Deleting removes rows.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('face_templates', (t) => {
    t.string('id', 36).primary();
    t.string('account_id', 64).notNullable().references('accounts.id').onDelete('CASCADE');
    t.text('embedding_sealed').notNullable();
    t.bigInteger('created_at').notNullable();
    t.index(['account_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('face_templates');
}
