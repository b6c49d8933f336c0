import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { migrationSource } from '../../migrations/index.js';
import type { Config } from '../../config/schema.js';

export type Database = Knex;

export function sqliteFile(config: Config): string {
  return resolve(join(config.dataDir, 'tessera.sqlite'));
}

export function openDatabase(config: Config): Database {
  if (config.databaseUrl) {
    return knexFactory({
      client: 'pg',
      connection: config.databaseUrl,
      pool: { min: 0, max: 10 },
    });
  }
  mkdirSync(config.dataDir, { recursive: true });
  return knexFactory({
    client: 'better-sqlite3',
    connection: { filename: sqliteFile(config) },
    useNullAsDefault: true,
    pool: {
      min: 1,
      max: 1,
      afterCreate(conn: { pragma: (s: string) => unknown }, done: (err: Error | null, conn: unknown) => void) {
        // WAL lets readers proceed during writes; busy_timeout covers a CLI writing
        // while the server runs.
        conn.pragma('journal_mode = WAL');
        // In WAL mode NORMAL cannot corrupt the database; a power cut may lose the last
        // commits, and it saves an fsync per write on the login path.
        conn.pragma('synchronous = NORMAL');
        conn.pragma('busy_timeout = 5000');
        conn.pragma('foreign_keys = ON');
        done(null, conn);
      },
    },
  });
}

export async function migrate(db: Database): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource })) as [number, string[]];
  return applied;
}

export async function pingDatabase(db: Database): Promise<void> {
  await db.raw('select 1');
}

/** Knex returns bigint columns as strings on pg; normalise to numbers (epoch ms fits). */
export function toNumber(v: unknown): number | undefined {
  if (v === null || v === undefined) return undefined;
  return typeof v === 'number' ? v : Number(v);
}
