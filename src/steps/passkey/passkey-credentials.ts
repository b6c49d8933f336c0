import { randomBytes } from 'node:crypto';
import type { AuthenticatorTransportFuture, CredentialDeviceType } from '@simplewebauthn/server';
import { isoBase64URL } from '@simplewebauthn/server/helpers';
import type { Database } from '../../db/database.js';
import { toNumber } from '../../db/database.js';

/** One registered passkey: what verifying its assertions needs, and what the console shows. */
export interface Passkey {
  id: string;
  accountId: string;
  credentialId: string;
  publicKey: Uint8Array<ArrayBuffer>;
  signCount: number;
  transports: AuthenticatorTransportFuture[];
  aaguid: string;
  name: string;
  deviceType: CredentialDeviceType;
  backedUp: boolean;
  createdAt: number;
  lastUsedAt?: number;
}

export type NewPasskey = Omit<Passkey, 'id' | 'createdAt' | 'lastUsedAt'>;

interface Row {
  id: string;
  account_id: string;
  credential_id: string;
  public_key: string;
  sign_count: number | string;
  transports: string;
  aaguid: string;
  name: string;
  device_type: string;
  backed_up: boolean | number;
  created_at: number | string;
  last_used_at: number | string | null;
}

const passkeyOf = (r: Row): Passkey => ({
  id: r.id,
  accountId: r.account_id,
  credentialId: r.credential_id,
  publicKey: isoBase64URL.toBuffer(r.public_key),
  signCount: Number(r.sign_count),
  transports: (r.transports ? r.transports.split(',') : []) as AuthenticatorTransportFuture[],
  aaguid: r.aaguid,
  name: r.name,
  deviceType: r.device_type as CredentialDeviceType,
  backedUp: Boolean(r.backed_up),
  createdAt: Number(r.created_at),
  lastUsedAt: toNumber(r.last_used_at),
});

/** Passkeys (WebAuthn credentials), several per account. */
export class PasskeyCredentials {
  constructor(private readonly db: Database) {}

  async ofAccount(accountId: string): Promise<Passkey[]> {
    const rows = (await this.db('passkey_credentials').where({ account_id: accountId }).orderBy('created_at')) as Row[];
    return rows.map(passkeyOf);
  }

  async byCredentialId(credentialId: string): Promise<Passkey | undefined> {
    const row = (await this.db('passkey_credentials').where({ credential_id: credentialId }).first()) as Row | undefined;
    return row && passkeyOf(row);
  }

  async exists(accountId: string): Promise<boolean> {
    return Boolean(await this.db('passkey_credentials').select('id').where({ account_id: accountId }).first());
  }

  /** Stores a verified registration and returns its id; undefined when that credential is registered already (to anyone). */
  async add(passkey: NewPasskey): Promise<string | undefined> {
    const row = {
      id: randomBytes(12).toString('base64url'),
      account_id: passkey.accountId,
      credential_id: passkey.credentialId,
      public_key: isoBase64URL.fromBuffer(passkey.publicKey),
      sign_count: passkey.signCount,
      transports: passkey.transports.join(','),
      aaguid: passkey.aaguid,
      name: passkey.name,
      device_type: passkey.deviceType,
      backed_up: passkey.backedUp,
      created_at: Date.now(),
    };
    const inserted = await this.db('passkey_credentials').insert(row).onConflict('credential_id').ignore().returning('id');
    return inserted.length === 1 ? row.id : undefined;
  }

  /**
   * Records a use whose signature counter is `signCount`: a single conditional UPDATE, so that of
   * two assertions carrying the same counter (a replay, or a cloned authenticator) only one counts.
   * Authenticators that do not count report 0 every time, and are accepted every time.
   */
  async recordUse(id: string, signCount: number, backedUp: boolean): Promise<boolean> {
    const use = this.db('passkey_credentials').where({ id });
    const changed = await (signCount === 0 ? use.andWhere('sign_count', 0) : use.andWhere('sign_count', '<', signCount)).update({ sign_count: signCount, backed_up: backedUp, last_used_at: Date.now() });
    return changed === 1;
  }

  async rename(accountId: string, id: string, name: string): Promise<boolean> {
    return (await this.db('passkey_credentials').where({ id, account_id: accountId }).update({ name })) === 1;
  }

  async remove(accountId: string, id: string): Promise<boolean> {
    return (await this.db('passkey_credentials').where({ id, account_id: accountId }).delete()) === 1;
  }

  async removeAll(accountId: string): Promise<number> {
    return this.db('passkey_credentials').where({ account_id: accountId }).delete();
  }
}
