import type { Knex } from 'knex';
import * as core from './20261126_001_core.js';
import * as totp from './20261127_002_totp.js';
import * as knownContexts from './20261127_003_known_contexts.js';
import * as faceTemplates from './20261127_004_face_templates.js';
import * as neural from './20261128_005_neural.js';
import * as flows from './20261127_006_flows.js';
import * as recordsByAccount from './20261127_007_records_by_account.js';
import * as auditSubjectIndex from './20261128_008_audit_subject_partial_index.js';
import * as neuralSignalFingerprints from './20261204_009_neural_signal_fingerprints.js';
import * as cancelableTemplates from './20261204_010_cancelable_templates.js';
import * as passkeys from './20261208_011_passkeys.js';
import * as registration from './20261208_012_registration.js';

// Migrations are listed here rather than discovered on disk, so the compiled build,
// tsx and the CLI all run exactly the same set in the same order.
const migrations: Record<string, Knex.Migration> = {
  '20261126_001_core': core,
  '20261127_002_totp': totp,
  '20261127_003_known_contexts': knownContexts,
  '20261127_004_face_templates': faceTemplates,
  '20261128_005_neural': neural,
  '20261127_006_flows': flows,
  '20261127_007_records_by_account': recordsByAccount,
  '20261128_008_audit_subject_partial_index': auditSubjectIndex,
  '20261204_009_neural_signal_fingerprints': neuralSignalFingerprints,
  '20261204_010_cancelable_templates': cancelableTemplates,
  '20261208_011_passkeys': passkeys,
  '20261208_012_registration': registration,
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
