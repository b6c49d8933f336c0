import { randomUUID } from 'node:crypto';
import { InputError } from './input-error.js';
import type { Database } from '../db/database.js';
import { toNumber } from '../db/database.js';
import { RecentLookups } from '../db/recent-lookups.js';
import { hashPassword, schemeOf } from './password-hash.js';

export interface Account {
  id: string;
  username: string;
  email?: string;
  emailVerified: boolean;
  name?: string;
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface NewAccount {
  username: string;
  email?: string;
  emailVerified?: boolean;
  name?: string;
  password?: string;
  // An existing hash imported from another system (bcrypt, PBKDF2 or argon2id).
  passwordHash?: string;
}

export interface AccountChanges {
  // null clears the value.
  email?: string | null;
  emailVerified?: boolean;
  name?: string | null;
  disabled?: boolean;
}

export class AccountError extends InputError {
  override name = 'AccountError';
}

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;

// Usernames are matched case-insensitively; stored folded so the unique index enforces it.
export const normaliseUsername = (u: string) => u.trim().toLowerCase();

function checkNewPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw new AccountError(`password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  if (password.length > MAX_PASSWORD_LENGTH) throw new AccountError(`password must be at most ${MAX_PASSWORD_LENGTH} characters`);
}

const fromRow = (r: Record<string, unknown>): Account => ({
  id: String(r.id),
  username: String(r.username),
  email: (r.email as string | null) ?? undefined,
  emailVerified: Boolean(r.email_verified),
  name: (r.name as string | null) ?? undefined,
  disabled: Boolean(r.disabled),
  createdAt: toNumber(r.created_at)!,
  updatedAt: toNumber(r.updated_at)!,
});

const PUBLIC_COLUMNS = ['id', 'username', 'email', 'email_verified', 'name', 'disabled', 'created_at', 'updated_at'];

// A sign-in reads its account several times within moments (resume, code redemption, step-up
// checks). `findRecent` remembers it this long; changes made through this service apply at once,
// changes made by another process (a cluster worker, the CLI) within this time.
const ACCOUNT_MEMORY_MS = 1000;

export class AccountService {
  private readonly recent = new RecentLookups((id: string) => this.findById(id), ACCOUNT_MEMORY_MS);

  constructor(private readonly db: Database) {}

  /** `findById` for the sign-in path, remembered for a moment (see ACCOUNT_MEMORY_MS). */
  findRecent(id: string): Promise<Account | undefined> {
    return this.recent.get(id);
  }

  async create(input: NewAccount): Promise<Account> {
    const username = normaliseUsername(input.username);
    if (!USERNAME.test(username)) throw new AccountError('username must be 1–128 characters: letters, digits and . _ @ + -');
    if (input.email !== undefined && !EMAIL.test(input.email)) throw new AccountError(`not an email address: ${input.email}`);
    if (input.password !== undefined && input.passwordHash !== undefined) throw new AccountError('give a password or a password hash, not both');
    let hash: string | null = null;
    if (input.password !== undefined) {
      checkNewPassword(input.password);
      hash = await hashPassword(input.password);
    } else if (input.passwordHash !== undefined) {
      schemeOf(input.passwordHash);
      hash = input.passwordHash;
    }
    const now = Date.now();
    const row = {
      id: randomUUID(),
      username,
      email: input.email ?? null,
      email_verified: input.emailVerified ?? false,
      name: input.name ?? null,
      password_hash: hash,
      disabled: false,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.db('accounts').insert(row);
    } catch (err) {
      if (/unique|duplicate/i.test((err as Error).message)) throw new AccountError(`username ${username} is taken`, 'conflict');
      throw err;
    }
    return fromRow(row);
  }

  async findById(id: string): Promise<Account | undefined> {
    const row = await this.db('accounts').select(PUBLIC_COLUMNS).where({ id }).first();
    return row ? fromRow(row) : undefined;
  }

  async findByUsername(username: string): Promise<Account | undefined> {
    const row = await this.db('accounts').select(PUBLIC_COLUMNS).where({ username: normaliseUsername(username) }).first();
    return row ? fromRow(row) : undefined;
  }

  /** Finds by id or username, for CLI arguments that accept either. */
  async resolve(ref: string): Promise<Account> {
    const account = (await this.findByUsername(ref)) ?? (await this.findById(ref));
    if (!account) throw new AccountError(`no such user: ${ref}`);
    return account;
  }

  async list(): Promise<Account[]> {
    return (await this.db('accounts').select(PUBLIC_COLUMNS).orderBy('username')).map(fromRow);
  }

  /**
   * One page of accounts in username order (usernames are unique, so the order is stable),
   * starting after the username `after`; `hasMore` says whether another page follows.
   */
  async page(query: { after?: string; limit: number; usernamePrefix?: string; disabled?: boolean }): Promise<{ accounts: Account[]; hasMore: boolean }> {
    const q = this.db('accounts').select(PUBLIC_COLUMNS).orderBy('username').limit(query.limit + 1);
    if (query.after !== undefined) q.where('username', '>', query.after);
    if (query.usernamePrefix) q.whereRaw("username like ? escape '\\'", [`${normaliseUsername(query.usernamePrefix).replace(/[\\%_]/g, '\\$&')}%`]);
    if (query.disabled !== undefined) q.where({ disabled: query.disabled });
    const rows = (await q).map(fromRow);
    return { accounts: rows.slice(0, query.limit), hasMore: rows.length > query.limit };
  }

  async setDisabled(id: string, disabled: boolean): Promise<void> {
    this.recent.forget(id);
    await this.db('accounts').where({ id }).update({ disabled, updated_at: Date.now() });
    this.recent.forget(id);
  }

  /** Applies the given changes; undefined when there is no such account. */
  async update(id: string, changes: AccountChanges): Promise<Account | undefined> {
    if (typeof changes.email === 'string' && !EMAIL.test(changes.email)) throw new AccountError(`not an email address: ${changes.email}`);
    const row: Record<string, unknown> = { updated_at: Date.now() };
    if (changes.email !== undefined) row.email = changes.email;
    if (changes.emailVerified !== undefined) row.email_verified = changes.emailVerified;
    if (changes.name !== undefined) row.name = changes.name;
    if (changes.disabled !== undefined) row.disabled = changes.disabled;
    this.recent.forget(id);
    const changed = await this.db('accounts').where({ id }).update(row);
    this.recent.forget(id);
    if (!changed) return undefined;
    return this.findById(id);
  }

  /** Deletes the account; its TOTP credential, recovery codes and known devices go with it (ON DELETE CASCADE). */
  async delete(id: string): Promise<boolean> {
    this.recent.forget(id);
    const deleted = (await this.db('accounts').where({ id }).delete()) === 1;
    this.recent.forget(id);
    return deleted;
  }

  async setPassword(id: string, password: string): Promise<void> {
    checkNewPassword(password);
    await this.db('accounts').where({ id }).update({ password_hash: await hashPassword(password), updated_at: Date.now() });
  }

  async passwordHashOf(username: string): Promise<{ account: Account; hash: string | null } | undefined> {
    const row = await this.db('accounts').select([...PUBLIC_COLUMNS, 'password_hash']).where({ username: normaliseUsername(username) }).first();
    if (!row) return undefined;
    const account = fromRow(row);
    this.recent.remember(account.id, account);
    return { account, hash: row.password_hash ?? null };
  }

  /** Upgrades an imported or outdated hash after a successful login, unless it changed meanwhile. */
  async upgradeHash(id: string, oldHash: string, password: string): Promise<void> {
    await this.db('accounts')
      .where({ id, password_hash: oldHash })
      .update({ password_hash: await hashPassword(password), updated_at: Date.now() });
  }
}
