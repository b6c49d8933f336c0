import type { Knex } from 'knex';

// The account console lists an account's sessions and grants: index provider records by account.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('oidc_records', (t) => {
    t.string('account_id', 64);
    t.index(['model', 'account_id']);
  });
  // Records written before this migration carry the account only inside their JSON payload.
  const accountOf = knex.client.config.client === 'pg' ? "payload::json->>'accountId'" : "json_extract(payload, '$.accountId')";
  await knex('oidc_records').whereIn('model', ['Session', 'Grant']).update({ account_id: knex.raw(accountOf) });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('oidc_records', (t) => {
    t.dropIndex(['model', 'account_id']);
    t.dropColumn('account_id');
  });
}
