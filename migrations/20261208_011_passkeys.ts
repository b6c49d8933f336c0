import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('passkey_credentials', (t) => {
    // Opaque id for the account console's URLs (the credential id can be long).
    t.string('id', 32).primary();
    t.string('account_id', 64).notNullable().references('accounts.id').onDelete('CASCADE');
    // The WebAuthn credential id (base64url) the authenticator names in every assertion.
    t.string('credential_id', 1400).notNullable().unique();
    // COSE public key (base64url): not secret, but only the signature check reads it.
    t.text('public_key').notNullable();
    // The authenticator's signature counter: an assertion must raise it (when it counts at all).
    t.bigInteger('sign_count').notNullable();
    // Comma-separated AuthenticatorTransport hints (internal, usb, hybrid…).
    t.string('transports', 128).notNullable().defaultTo('');
    t.string('aaguid', 36).notNullable();
    t.string('name', 64).notNullable();
    // singleDevice (bound to one authenticator) or multiDevice (synced); and whether it is backed up now.
    t.string('device_type', 16).notNullable();
    t.boolean('backed_up').notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('last_used_at');
    t.index(['account_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('passkey_credentials');
}
