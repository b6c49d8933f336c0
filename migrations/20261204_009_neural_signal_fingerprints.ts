import type { Knex } from 'knex';

// The replay defence now remembers a model-independent signal fingerprint of each recording
// (low-rate, band-passed, per-channel normalised samples, sealed) instead of per-window
// embeddings, which changed with every retrained model and missed shifted copies. Rows from
// before keep their digest (exact replays) until they expire; they have no fingerprint.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('neural_submissions', (t) => {
    t.text('fingerprint_sealed');
  });
  await knex.schema.alterTable('neural_submissions', (t) => {
    t.dropColumn('windows_sealed');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('neural_submissions', (t) => {
    t.text('windows_sealed');
  });
  await knex.schema.alterTable('neural_submissions', (t) => {
    t.dropColumn('fingerprint_sealed');
  });
}
