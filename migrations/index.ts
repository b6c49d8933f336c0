import type { Knex } from 'knex';
import * as core from './20261126_001_core.js';
import * as totp from './20261127_002_totp.js';
import * as knownContexts from './20261127_003_known_contexts.js';
import * as faceTemplates from './20261127_004_face_templates.js';

// Migrations are listed here rather than discovered on disk, so the compiled build,
// tsx and the CLI all run exactly the same set in the same order.
const migrations: Record<string, Knex.Migration> = {
  '20261126_001_core': core,
  '20261127_002_totp': totp,
  '20261127_003_known_contexts': knownContexts,
  '20261127_004_face_templates': faceTemplates,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations),
  getMigrationName: (name) => name,
  getMigration: async (name) => {
    const migration = migrations[name];
    if (!migration) throw new Error(`unknown migration ${name}`);
    return migration;
  },
};
