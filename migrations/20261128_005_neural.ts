import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('neural_templates', (t) => {
    t.string('account_id', 64).primary().references('accounts.id').onDelete('CASCADE');
    // The enrollment embedding (float32, unit length), sealed with the master key (purpose "neural-template").
    t.text('template_sealed').notNullable();
    // The model (montage) the template was made with: a template only matches probes of the same model.
    t.string('model', 32).notNullable();
    t.integer('windows').notNullable();
    t.bigInteger('created_at').notNullable();
  });
  // What the replay defence remembers of each recording an account submitted (enrollment or an
  // accepted probe): a keyed digest of the decoded samples and the per-window embeddings, sealed.
  // Probes expire after the retention period; enrollment rows go with the template.
  await knex.schema.createTable('neural_submissions', (t) => {
    t.increments('id').primary();
    t.string('account_id', 64).notNullable().references('accounts.id').onDelete('CASCADE');
    t.string('kind', 16).notNullable();
    // HMAC-SHA256 of the samples under a key derived from the master key (not reversible, not linkable elsewhere).
    t.string('digest', 64).notNullable();
    t.text('windows_sealed').notNullable();
    t.string('model', 32).notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('expires_at');
    // Two concurrent submissions of the same recording: the second insert fails, so only one counts.
    t.unique(['account_id', 'digest']);
    t.index(['account_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('neural_submissions');
  await knex.schema.dropTableIfExists('neural_templates');
}
