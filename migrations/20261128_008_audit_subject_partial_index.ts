import type { Knex } from 'knex';

// Client-credentials tokens (most audit rows under load) have no subject: indexing their NULLs
// costs an index insert per token and serves no query. Both engines support partial indexes.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('audit_events', (t) => t.dropIndex(['subject', 'at']));
  await knex.raw('CREATE INDEX audit_events_subject_at ON audit_events (subject, at) WHERE subject IS NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX audit_events_subject_at');
  await knex.schema.alterTable('audit_events', (t) => t.index(['subject', 'at']));
}
