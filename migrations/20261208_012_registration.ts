import type { Knex } from 'knex';

// Dynamic client registration (RFC 7591/7592). Initial access tokens are kept as a SHA-256 of
// the value (shown once, at creation); clients say whether they were registered that way.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('initial_access_tokens', (t) => {
    t.string('id', 32).primary();
    t.string('token_hash', 64).notNullable().unique();
    // Names of the registration policies (config registrationPolicies) applied to what it registers, as JSON.
    t.text('policies').notNullable();
    t.string('description', 256);
    t.bigInteger('created_at').notNullable();
    t.bigInteger('expires_at').notNullable();
    t.bigInteger('revoked_at');
  });
  await knex.schema.alterTable('clients', (t) => {
    // Created through the registration endpoint (and managed with its registration access token).
    t.boolean('self_registered').notNullable().defaultTo(false);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('clients', (t) => t.dropColumn('self_registered'));
  await knex.schema.dropTableIfExists('initial_access_tokens');
}
