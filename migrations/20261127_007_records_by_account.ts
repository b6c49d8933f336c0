import type { Knex } from 'knex';

// The account console lists an account's sessions and grants: index provider records by account.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('oidc_records', (t) => {
    t.string('account_id', 64);
    t.index(['model', 'account_id']);
  });
  // Records written before this migration carry the account only inside their payload.
  const rows = await knex('oidc_records').select('model', 'id', 'payload').whereIn('model', ['Session', 'Grant']);
  for (const row of rows) {
    const accountId = (JSON.parse(String(row.payload)) as { accountId?: unknown }).accountId;
    if (typeof accountId === 'string') await knex('oidc_records').where({ model: row.model, id: row.id }).update({ account_id: accountId });
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('oidc_records', (t) => {
    t.dropIndex(['model', 'account_id']);
    t.dropColumn('account_id');
  });
}
