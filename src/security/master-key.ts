import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Config } from '../../config/schema.js';
import { ConfigError } from '../../config/load.js';

export interface MasterKeySource {
  key: Buffer;
  // Where it came from, for the start-up line (never the key itself).
  origin: 'environment' | 'file' | 'generated-file';
  path?: string;
}

function decode(text: string, where: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) {
    throw new ConfigError([`${where}: master key must be base64 of exactly 32 bytes (got ${key.length})`]);
  }
  return key;
}

/**
 * The master key seals signing keys, client secrets and (later) biometric templates.
 * On the embedded default it is generated once into DATA_DIR, which the caller warns about.
 */
export function loadMasterKey(config: Config, { create = true } = {}): MasterKeySource {
  if (config.masterKey) return { key: decode(config.masterKey, 'TESSERA_MASTER_KEY'), origin: 'environment' };
  if (config.masterKeyFile) {
    const path = resolve(config.masterKeyFile);
    if (!existsSync(path)) throw new ConfigError([`TESSERA_MASTER_KEY_FILE: ${path} does not exist`]);
    return { key: decode(readFileSync(path, 'utf8'), 'TESSERA_MASTER_KEY_FILE'), origin: 'file', path };
  }
  const path = resolve(join(config.dataDir, 'master.key'));
  if (existsSync(path)) return { key: decode(readFileSync(path, 'utf8'), path), origin: 'file', path };
  if (!create) throw new ConfigError([`no master key: ${path} does not exist yet (start the server once, or set TESSERA_MASTER_KEY)`]);
  mkdirSync(dirname(path), { recursive: true });
  const key = randomBytes(32);
  writeFileSync(path, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  return { key, origin: 'generated-file', path };
}
