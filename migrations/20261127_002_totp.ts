import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('totp_credentials', (t) => {
    t.string('account_id', 64).primary().references('accounts.id').onDelete('CASCADE');
    // The shared secret, sealed with the master key (purpose "totp-secret").
    t.text('secret_sealed').notNullable();
    t.string('algorithm', 16).notNullable();
    t.integer('digits').notNullable();
    t.integer('period').notNullable();
    // The newest accepted time step: a code is good once, and never an older one after it.
    t.bigInteger('last_time_step');
    t.bigInteger('created_at').notNullable();
  });
  await knex.schema.createTable('recovery_codes', (t) => {
    t.increments('id').primary();
    t.string('account_id', 64).notNullable().references('accounts.id').onDelete('CASCADE');
    // HMAC-SHA256 of the code under a key derived from the master key; codes are random, so no slow hash is needed.
    t.string('code_hash', 64).notNullable();
    t.bigInteger('used_at');
    t.bigInteger('created_at').notNullable();
    t.index(['account_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('recovery_codes');
  await knex.schema.dropTableIfExists('totp_credentials');
}
