import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knexFactory from 'knex';

// The real servers the suite runs against (CI starts them; see .ci/run).
export const PG_ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface Backend {
  name: 'sqlite' | 'postgres+redis';
  env: Record<string, string>;
  dispose(): Promise<void>;
}

/** A private SQLite data directory. */
export async function sqliteBackend(): Promise<Backend> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-test-'));
  return {
    name: 'sqlite',
    env: { DATA_DIR: dir },
    async dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh PostgreSQL database and Redis key prefix, dropped afterwards. */
export async function postgresRedisBackend(): Promise<Backend> {
  const name = `tessera_t_${randomBytes(6).toString('hex')}`;
  const admin = knexFactory({ client: 'pg', connection: PG_ADMIN_URL, pool: { min: 0, max: 1 } });
  try {
    await admin.raw(`create database ${name}`);
  } catch (err) {
    await admin.destroy();
    throw new Error(`PostgreSQL is required for the tests at ${PG_ADMIN_URL} (set TEST_DATABASE_URL): ${(err as Error).message}`);
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-test-'));
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name: 'postgres+redis',
    env: {
      DATABASE_URL: url.toString(),
      REDIS_URL,
      TESSERA_REDIS_PREFIX: `${name}:`,
      DATA_DIR: dataDir,
    },
    async dispose() {
      await admin.raw(`drop database if exists ${name} with (force)`);
      await admin.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const BACKENDS = [sqliteBackend, postgresRedisBackend];
