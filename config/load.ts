import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { configSchema, type Config } from './schema.js';
import { flowProblems } from './flows.js';
import { envMapping, jsonEnv, listEnv } from './env.js';

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const envNameFor = new Map(Object.entries(envMapping).map(([env, key]) => [key, env]));

function fromEnv(env: NodeJS.ProcessEnv): { values: Record<string, unknown>; problems: string[] } {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, key] of Object.entries(envMapping)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    if (jsonEnv.has(name)) {
      try {
        values[key] = JSON.parse(raw);
      } catch {
        problems.push(`${name}: is not valid JSON`);
      }
    } else if (listEnv.has(name)) {
      values[key] = raw.split(',').map((v) => v.trim()).filter(Boolean);
    } else {
      values[key] = raw;
    }
  }
  return { values, problems };
}

function fromFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`TESSERA_CONFIG: cannot read ${path} (${(err as NodeJS.ErrnoException).code})`]);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new ConfigError([`TESSERA_CONFIG: ${path} must hold a JSON object`]);
    }
    return parsed as Record<string, unknown>;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError([`TESSERA_CONFIG: ${path} is not valid JSON (${(err as Error).message})`]);
  }
}

function describe(issue: z.core.$ZodIssue): string {
  const [top, ...rest] = issue.path.map(String);
  const env = top ? envNameFor.get(top) : undefined;
  const where = [env ? `${env} (${top})` : top, ...rest].filter(Boolean).join('.');
  return `${where || 'config'}: ${issue.message}`;
}

/** Builds the validated configuration: defaults < config file < environment. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const file = env.TESSERA_CONFIG ? fromFile(env.TESSERA_CONFIG) : {};
  const { values, problems } = fromEnv(env);
  if (problems.length) throw new ConfigError(problems);
  const result = configSchema.safeParse({ ...file, ...values });
  if (!result.success) throw new ConfigError(result.error.issues.map(describe));
  const c = result.data;
  const flowErrors = flowProblems(c);
  if (flowErrors.length) throw new ConfigError(flowErrors);
  const issuer = (c.issuer ?? `http://localhost:${c.port}`).replace(/\/$/, '');
  if (c.databaseUrl && !c.masterKey && !c.masterKeyFile) {
    // A key file generated on one host cannot serve several hosts sharing PostgreSQL.
    throw new ConfigError([
      'TESSERA_MASTER_KEY or TESSERA_MASTER_KEY_FILE is required with DATABASE_URL (generate one with `openssl rand -base64 32`)',
    ]);
  }
  return {
    ...c,
    issuer,
    storage: { sql: c.databaseUrl ? 'postgres' : 'sqlite', shortLived: c.redisUrl ? 'redis' : 'sql' },
  };
}
