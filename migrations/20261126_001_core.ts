import type { Knex } from 'knex';

// Written once for both PostgreSQL and SQLite: only portable column types, epoch-ms
// integers for instants (comparable and index-friendly on both), JSON kept as text.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('accounts', (t) => {
    t.string('id', 64).primary();
    t.string('username', 128).notNullable().unique();
    t.string('email', 320);
    t.boolean('email_verified').notNullable().defaultTo(false);
    t.string('name', 256);
    t.text('password_hash');
    t.boolean('disabled').notNullable().defaultTo(false);
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.index(['email']);
  });

  await knex.schema.createTable('clients', (t) => {
    t.string('client_id', 128).primary();
    // Client metadata as oidc-provider expects it, minus the secret.
    t.text('metadata').notNullable();
    // The secret sealed with the master key (oidc-provider must compare it in clear).
    t.text('secret_sealed');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
  });

  // Short-lived and grant-bound oidc-provider records (sessions, codes, tokens, grants…).
  await knex.schema.createTable('oidc_records', (t) => {
    t.string('model', 48).notNullable();
    t.string('id', 256).notNullable();
    t.text('payload').notNullable();
    t.string('grant_id', 256);
    t.string('uid', 256);
    t.string('user_code', 256);
    t.bigInteger('consumed_at');
    t.bigInteger('expires_at');
    t.primary(['model', 'id']);
    t.index(['grant_id']);
    t.index(['model', 'uid']);
    t.index(['model', 'user_code']);
    t.index(['expires_at']);
  });

  await knex.schema.createTable('signing_keys', (t) => {
    t.string('kid', 128).primary();
    t.string('alg', 16).notNullable();
    // next: published, not yet signing; current: signing; retired: published until retire_until.
    t.string('state', 16).notNullable();
    t.text('private_jwk_sealed').notNullable();
    t.text('public_jwk').notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('activated_at');
    t.bigInteger('retired_at');
    t.bigInteger('retire_until');
    t.index(['state']);
  });

  await knex.schema.createTable('rate_counters', (t) => {
    t.string('key', 300).primary();
    t.integer('count').notNullable();
    t.bigInteger('expires_at').notNullable();
    t.index(['expires_at']);
  });

  await knex.schema.createTable('audit_events', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('at').notNullable();
    t.string('type', 64).notNullable();
    t.string('outcome', 16).notNullable();
    t.string('subject', 128);
    t.string('client_id', 128);
    t.string('ip', 64);
    t.string('user_agent', 512);
    t.text('details');
    // Every issued token adds a row, so each index here costs throughput: per-user and
    // per-client history get b-trees; time ranges get a BRIN index on PostgreSQL (rows arrive
    // in time order, so it stays tiny and nearly free to maintain).
    t.index(['subject', 'at']);
    t.index(['client_id', 'at']);
  });
  if (knex.client.config.client === 'pg') await knex.raw('CREATE INDEX audit_events_at_brin ON audit_events USING brin (at)');
  else await knex.raw('CREATE INDEX audit_events_at ON audit_events (at)');

  // Append-only: the database itself refuses to change or delete audit rows.
  if (knex.client.config.client === 'pg') {
    await knex.raw(`
      CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
      BEGIN RAISE EXCEPTION 'audit_events is append-only'; END;
      $$ LANGUAGE plpgsql`);
    await knex.raw(`CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
      FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`);
  } else {
    await knex.raw(`CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
      BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END`);
    await knex.raw(`CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
      BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END`);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['audit_events', 'rate_counters', 'signing_keys', 'oidc_records', 'clients', 'accounts']) {
    await knex.schema.dropTableIfExists(table);
  }
  if (knex.client.config.client === 'pg') await knex.raw('DROP FUNCTION IF EXISTS audit_events_append_only');
}
