import type { Knex } from 'knex';

// Sign-in flows added through the admin API or the CLI (the config file's flows are not
// stored). Each acr value maps to at most one flow; the primary key enforces that even when
// two processes add flows at the same time.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('flows', (t) => {
    t.string('name', 64).primary();
    // The requirements as JSON: [{ "step": "password" }, { "anyOf": [...], "count": 2 }].
    t.text('requirements').notNullable();
    t.boolean('enroll_at_login').notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
  });
  await knex.schema.createTable('flow_acr_values', (t) => {
    t.string('acr', 256).primary();
    t.string('flow_name', 64).notNullable().references('flows.name').onDelete('CASCADE');
    t.index(['flow_name']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('flow_acr_values');
  await knex.schema.dropTableIfExists('flows');
}
