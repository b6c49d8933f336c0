import type { Knex } from 'knex';

// Devices (by cookie) and networks (by address prefix) an account has signed in from, for the
// risk signal. Values are stored as keyed hashes: the table does not reveal addresses.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('known_contexts', (t) => {
    t.string('account_id', 64).notNullable().references('accounts.id').onDelete('CASCADE');
    t.string('kind', 16).notNullable();
    t.string('value_hash', 64).notNullable();
    t.bigInteger('first_seen').notNullable();
    t.bigInteger('last_seen').notNullable();
    t.primary(['account_id', 'kind', 'value_hash']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('known_contexts');
}
