import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../config/load.js';
import { createLogger } from '../../src/log.js';
import { decodeTemplate, hammingFraction, type CancelableTemplate } from '../../src/biometrics/cancelable/index.js';
import { findNeuralModel, type NeuralModel } from '../../src/biometrics/neural/model-catalog.js';
import { readModelDescription } from '../../src/biometrics/neural/model-file.js';
import { meanDirection } from '../../src/biometrics/neural/similarity.js';
import { CredentialThrottle } from '../../src/security/credential-throttle.js';
import { SealedBox } from '../../src/security/sealed-box.js';
import { openServices, type Services } from '../../src/services.js';
import { NeuralCredentials } from '../../src/steps/neural/neural-credentials.js';
import { NeuralStep, type NeuralSettings } from '../../src/steps/neural/neural-step.js';
import { BACKENDS, sqliteBackend, type Backend } from '../support/backends.js';
import { insertLegacyNeuralTemplate } from '../support/legacy-templates.js';
import { cutEdf, edfToJsonSamples, eegFile } from '../support/eeg.js';

const upload = (data: Uint8Array) => ({ field: 'recording', contentType: 'application/octet-stream', data: Buffer.from(data) });
const at = { ip: '192.0.2.20' };
const defaults: NeuralSettings = { montage: 'clinical19', replaySimilarity: 0.8, replayRetentionDays: 30 };

describe('neural step: configured threshold, sealed storage, replay memory retention', () => {
  let backend: Backend;
  let s: Services;
  let credentials: NeuralCredentials;
  const stepWith = (settings: Partial<NeuralSettings>) =>
    new NeuralStep(credentials, new CredentialThrottle(s.rateCounter, { maxFailuresPerAccount: 50, maxFailuresPerIp: 50, windowSeconds: 60, lockoutSeconds: 60 }), s.audit, { ...defaults, ...settings });

  before(async () => {
    backend = await sqliteBackend();
    s = await openServices(loadConfig({ ...backend.env, TESSERA_MASTER_KEY: randomBytes(32).toString('base64') }), createLogger('silent'));
    credentials = NeuralCredentials.forMasterKey(s.db, s.masterKey.key, s.log);
  });
  after(async () => {
    await s.close();
    await backend.dispose();
  });

  test('the configured threshold decides, and is what the audit log records', async () => {
    const account = await s.accounts.create({ username: 'eve' });
    const step = stepWith({});
    assert.ok((await step.saveEnrollment(account, [upload(cutEdf(eegFile(24, 1), 0, 60))], at)).ok);
    // Subject24's genuine score is far below 0.99: the stricter setting refuses what the default accepts.
    const strict = await stepWith({ threshold: 0.99 }).verify({ fields: {}, files: [upload(cutEdf(eegFile(24, 2), 0, 10))] }, { interactionId: 'i', account }, at);
    assert.equal(strict.ok, false);
    const [refused] = await s.audit.query({ subject: account.id, type: 'login.failed', limit: 1 });
    assert.equal(refused!.details!.threshold, 0.99);
    assert.equal(refused!.details!.reason, 'no_match');
    const lenient = await step.verify({ fields: {}, files: [upload(cutEdf(eegFile(24, 2), 0, 10))] }, { interactionId: 'i', account }, at);
    assert.equal(lenient.ok, true);
  });

  test('consumer8 serves an 8-channel headset; a template made with another model is not compared', async () => {
    const account = await s.accounts.create({ username: 'hal' });
    const eight = (edf: Uint8Array) => {
      const json = edfToJsonSamples(edf);
      const keep = ['EEG Fp1', 'EEG Fp2', 'EEG C3', 'EEG C4', 'EEG T5', 'EEG T6', 'EEG O1', 'EEG O2'].map((l) => json.channels.indexOf(l));
      // Modern 10-10 names, as a consumer board labels them (P7/P8 are T5/T6).
      const labels = ['Fp1', 'Fp2', 'C3', 'C4', 'P7', 'P8', 'O1', 'O2'];
      return Buffer.from(JSON.stringify({ sampleRate: json.sampleRate, channels: labels, samples: keep.map((i) => json.samples[i]) }));
    };
    const consumer = stepWith({ montage: 'consumer8' });
    assert.ok((await consumer.saveEnrollment(account, [upload(eight(cutEdf(eegFile(23, 1), 0, 60)))], at)).ok);
    assert.equal((await s.db('neural_templates').where({ account_id: account.id }).first()).model, 'consumer8-v2');
    const probe = upload(eight(cutEdf(eegFile(23, 1), 100, 10)));
    assert.equal((await consumer.verify({ fields: {}, files: [probe] }, { interactionId: 'i', account }, at)).ok, true);
    // The 19-channel model refuses 8 channels by name, and does not score a consumer8 template.
    const clinical = stepWith({});
    const missing = await clinical.saveEnrollment(await s.accounts.create({ username: 'ivy' }), [upload(eight(cutEdf(eegFile(23, 1), 0, 60)))], at);
    assert.equal(!missing.ok && missing.status, 422);
    assert.match(!missing.ok ? missing.message : '', /lacks 11 of the 19 clinical19 electrodes: F3, F4, F7, F8, T3, T4, P3, P4, Fz, Cz, Pz/);
    const changed = await clinical.verify({ fields: {}, files: [upload(cutEdf(eegFile(23, 1), 120, 10))] }, { interactionId: 'i', account }, at);
    assert.equal(!changed.ok && changed.status, 409);
  });

  test('model versions: a v1 template verifies with the v1 model and its threshold; re-enrolment moves it to v2 and keeps the replay memory; an unknown model is refused', async () => {
    const account = await s.accounts.create({ username: 'uma' });
    const step = stepWith({});
    const v1 = findNeuralModel('clinical19')!;
    const threshold = (model: NeuralModel) => readModelDescription(readFileSync(model.file)).threshold;
    const verify = (subject: number, start: number) => step.verify({ fields: {}, files: [upload(cutEdf(eegFile(subject, 2), start, 10))] }, { interactionId: 'i', account }, at);
    const latest = async (type: string) => {
      await s.audit.flush();
      return (await s.audit.query({ subject: account.id, type, limit: 1 }))[0]!.details!;
    };
    // Stored as an enrolment made before the v2 models: the v1 embedder's template, model id 'clinical19'.
    const { embedding } = await step.embed(step.decode(Buffer.from(cutEdf(eegFile(21, 1), 0, 60))).recording, v1);
    assert.equal(embedding.vector.length, 384, 'the v1 embedding (v2 has 512 dimensions)');
    await credentials.enroll(account.id, { vector: meanDirection(embedding.windows), model: v1, windows: embedding.windowsUsed }, []);

    assert.equal((await verify(21, 0)).ok, true);
    const accepted = await latest('login.succeeded');
    assert.deepEqual([accepted.model, accepted.model_outdated, accepted.threshold, accepted.llr], ['clinical19', true, threshold(v1), undefined], 'v1 has no calibration');
    const impostor = await verify(22, 0);
    assert.equal(!impostor.ok && impostor.status, 401);
    const refused = await latest('login.failed');
    assert.deepEqual([refused.reason, refused.model, refused.threshold], ['no_match', 'clinical19', threshold(v1)]);

    assert.ok((await step.saveEnrollment(account, [upload(cutEdf(eegFile(21, 1), 0, 60))], at)).ok);
    assert.equal((await s.db('neural_templates').where({ account_id: account.id }).first()).model, 'clinical19-v2');
    assert.equal((await latest('credential.enrolled')).model, 'clinical19-v2');
    assert.equal((await verify(21, 10)).ok, true);
    const current = await latest('login.succeeded');
    assert.deepEqual([current.model, current.model_outdated, current.threshold], ['clinical19-v2', undefined, threshold(step.currentModel)]);
    assert.ok(Number(current.llr) > 0, 'a match above the threshold favours "same person" under v2\'s calibration');
    assert.notEqual(threshold(step.currentModel), threshold(v1));
    // The probe accepted under the v1 template is still remembered after re-enrolment on v2.
    const again = await verify(21, 0);
    assert.equal(!again.ok && again.status, 401);
    assert.equal((await latest('login.failed')).reason, 'replay');

    // A model this server does not ship (removed, or from a newer release) is not compared.
    await s.db('neural_templates').where({ account_id: account.id }).update({ model: 'clinical19-v9' });
    const unknown = await verify(21, 20);
    assert.equal(!unknown.ok && unknown.status, 409);
    const changed = await latest('login.failed');
    assert.deepEqual([changed.reason, changed.model, changed.montage], ['model_changed', 'clinical19-v9', 'clinical19']);
    await step.close();
  });

  test('the same fresh recording submitted twice at once is accepted once', async () => {
    const account = await s.accounts.create({ username: 'jo' });
    const step = stepWith({});
    assert.ok((await step.saveEnrollment(account, [upload(cutEdf(eegFile(22, 1), 0, 60))], at)).ok);
    const probe = cutEdf(eegFile(22, 2), 20, 10);
    const outcomes = await Promise.all([0, 1].map(() => step.verify({ fields: {}, files: [upload(probe)] }, { interactionId: 'i', account }, at)));
    assert.deepEqual(outcomes.map((o) => o.ok).sort(), [false, true]);
    const refused = outcomes.find((o) => !o.ok);
    assert.match(refused && !refused.ok ? refused.message : '', /used before/);
  });

  test('templates and remembered recordings are sealed to their account; expired probes are purged', async () => {
    const account = await s.accounts.create({ username: 'fay' });
    const step = stepWith({ replayRetentionDays: 1 });
    assert.ok((await step.saveEnrollment(account, [upload(cutEdf(eegFile(25, 1), 0, 60))], at)).ok);
    assert.equal((await step.verify({ fields: {}, files: [upload(cutEdf(eegFile(25, 2), 0, 10))] }, { interactionId: 'i', account }, at)).ok, true);
    const rows = await s.db('neural_submissions').where({ account_id: account.id }).orderBy('id');
    assert.deepEqual(rows.map((r) => r.kind), ['enrollment', 'probe']);
    for (const row of rows) assert.match(row.fingerprint_sealed, /^v1\./);
    const other = await s.accounts.create({ username: 'gil' });
    // A sealed row moved to another account does not open (the account id is bound as associated data).
    const template = await s.db('neural_templates').where({ account_id: account.id }).first();
    await s.db('neural_templates').insert({ ...template, account_id: other.id });
    await assert.rejects(credentials.template(other.id), /cannot decrypt/);
    // The probe expires after the retention period; the enrollment recording stays with the template.
    assert.ok(Number(rows[1]!.expires_at) > Date.now() + 23 * 3600_000);
    await s.db('neural_submissions').where({ id: rows[1]!.id }).update({ expires_at: Date.now() - 1 });
    assert.equal(await credentials.replay.purgeExpired(), 1);
    assert.deepEqual((await credentials.replay.previous(account.id, 'clinical19')).map((p) => p.kind), ['enrollment']);
  });

  test('a remembered recording sealed under another master key does not stop sign-in: it matches only exactly, with a warning', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    const throttle = new CredentialThrottle(s.rateCounter, { maxFailuresPerAccount: 50, maxFailuresPerIp: 50, windowSeconds: 60, lockoutSeconds: 60 });
    const step = new NeuralStep(NeuralCredentials.forMasterKey(s.db, s.masterKey.key, log), throttle, s.audit, defaults);
    const account = await s.accounts.create({ username: 'ned' });
    assert.ok((await step.saveEnrollment(account, [upload(cutEdf(eegFile(21, 1), 0, 60))], at)).ok);
    // The enrollment recording's fingerprint, sealed as a deployment with another master key would have.
    const row = await s.db('neural_submissions').where({ account_id: account.id }).first();
    const plain = new SealedBox(s.masterKey.key, 'neural-fingerprint').open(row.fingerprint_sealed, account.id);
    await s.db('neural_submissions').where({ id: row.id }).update({ fingerprint_sealed: new SealedBox(randomBytes(32), 'neural-fingerprint').seal(plain, account.id) });

    const probe = upload(cutEdf(eegFile(21, 2), 10, 10));
    assert.equal((await step.verify({ fields: {}, files: [probe] }, { interactionId: 'i', account }, at)).ok, true);
    assert.equal(lines.length, 1);
    const warning = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.deepEqual([warning.level, warning.memory, warning.subject], [40, 'neural-fingerprint', account.id]);
    assert.ok(!lines[0]!.includes('v1.'), 'nothing sealed in the log');
    // The rest of the memory still works: the accepted probe is refused when sent again.
    const again = await step.verify({ fields: {}, files: [probe] }, { interactionId: 'i', account }, at);
    assert.match(!again.ok ? again.message : '', /used before/);
    await step.close();
  });

  test('bad recordings at sign-in get a 4xx with the reason and an audit event; a good one verifies after each', async () => {
    const account = await s.accounts.create({ username: 'kim' });
    const step = stepWith({});
    assert.ok((await step.saveEnrollment(account, [upload(cutEdf(eegFile(21, 1), 0, 60))], at)).ok);
    const good = cutEdf(eegFile(21, 2), 0, 10);
    const json = edfToJsonSamples(good);
    const cases: [string, Buffer, string, number, RegExp, string][] = [
      ['truncated EDF', Buffer.from(good.subarray(0, good.length - 3000)), 'application/octet-stream', 422, /truncated/, 'edf_truncated'],
      ['NaN (null) sample', Buffer.from(JSON.stringify({ ...json, samples: json.samples.map((c, i) => (i === 2 ? c.map((v, j) => (j === 7 ? null : v)) : c)) })), 'application/json', 422, /not a finite number/, 'samples_nonfinite'],
      ['wrong content type', Buffer.from(good), 'image/png', 415, /declared as image\/png, not an EEG recording/, 'content_type_unsupported'],
      ['oversized', Buffer.alloc(16 * 1024 * 1024 + 1, 0x30), 'application/octet-stream', 413, /the limit is 16777216/, 'recording_too_large'],
      ['not a recording', Buffer.from('<html>hello</html>'.repeat(40)), 'application/octet-stream', 422, /EDF/, 'edf_not_edf'],
    ];
    for (const [i, [what, data, contentType, status, message, code]] of cases.entries()) {
      const refused = await step.verify({ fields: {}, files: [{ field: 'recording', contentType, data }] }, { interactionId: 'i', account }, at);
      assert.equal(!refused.ok && refused.status, status, what);
      assert.match(!refused.ok ? refused.message : '', message, what);
      const [event] = await s.audit.query({ subject: account.id, type: 'login.failed', limit: 1 });
      assert.deepEqual([event!.details!.reason, event!.details!.code], ['bad_recording', code], what);
      // The model worker is still there and verifies a fresh recording (a new 10 s of the task run each time).
      const fresh = await step.verify({ fields: {}, files: [upload(cutEdf(eegFile(21, 2), 10 * (i + 1), 10))] }, { interactionId: 'i', account }, at);
      assert.equal(fresh.ok, true, `after ${what}`);
    }
  });
});

for (const makeBackend of BACKENDS) {
  describe(`neural templates are cancelable (${makeBackend.name === 'sqliteBackend' ? 'SQLite' : 'PostgreSQL + Redis'})`, () => {
    let backend: Backend;
    let s: Services;
    let step: NeuralStep;
    const verify = (account: { id: string }, probe: Uint8Array) => step.verify({ fields: {}, files: [upload(probe)] }, { interactionId: 'i', account: account as never }, at);
    const storedTemplate = async (accountId: string): Promise<CancelableTemplate> => {
      const row = await s.db('neural_templates').where({ account_id: accountId }).first();
      assert.equal(row.format, 'cancelable-v1');
      return decodeTemplate(new SealedBox(s.masterKey.key, 'neural-cancelable-template').open(row.template_sealed, accountId));
    };

    before(async () => {
      backend = await makeBackend();
      s = await openServices(loadConfig({ ...backend.env, TESSERA_MASTER_KEY: randomBytes(32).toString('base64') }), createLogger('silent'));
      const throttle = new CredentialThrottle(s.rateCounter, { maxFailuresPerAccount: 50, maxFailuresPerIp: 50, windowSeconds: 60, lockoutSeconds: 60 });
      step = new NeuralStep(NeuralCredentials.forMasterKey(s.db, s.masterKey.key, s.log), throttle, s.audit, defaults);
    });
    after(async () => {
      await step.close();
      await s.close();
      await backend.dispose();
    });

    test('enrolment stores keyed bits, not the embedding, and sign-in matches them', async () => {
      const account = await s.accounts.create({ username: 'kai' });
      assert.ok((await step.saveEnrollment(account, [upload(cutEdf(eegFile(21, 1), 0, 60))], at)).ok);
      const stored = await storedTemplate(account.id);
      const { embedding } = await step.embed(step.decode(Buffer.from(cutEdf(eegFile(21, 1), 0, 60))).recording);
      assert.equal(stored.dimensions, embedding.vector.length);
      const template = meanDirection(embedding.windows);
      for (let i = 0; i < template.length; i++) assert.equal(Buffer.from(stored.bits).indexOf(Buffer.from(template.buffer, i * 4, 4)), -1);
      assert.equal((await verify(account, cutEdf(eegFile(21, 2), 0, 10))).ok, true);
      assert.equal((await verify(account, cutEdf(eegFile(22, 2), 0, 10))).ok, false);
    });

    test('a template enrolled as an embedding is replaced by a cancelable one at the next successful sign-in', async () => {
      const account = await s.accounts.create({ username: 'lee' });
      // Embedding templates predate model versions: they were made by the v1 model.
      const { embedding } = await step.embed(step.decode(Buffer.from(cutEdf(eegFile(22, 1), 0, 60))).recording, findNeuralModel('clinical19')!);
      await insertLegacyNeuralTemplate(s.db, s.masterKey.key, account.id, meanDirection(embedding.windows));
      const format = async () => (await s.db('neural_templates').where({ account_id: account.id }).first()).format;
      assert.equal((await verify(account, cutEdf(eegFile(23, 2), 0, 10))).ok, false);
      assert.equal(await format(), 'embedding', 'a failed sign-in changes nothing');
      assert.equal((await verify(account, cutEdf(eegFile(22, 2), 0, 10))).ok, true);
      assert.equal(await format(), 'cancelable-v1');
      await s.audit.flush();
      const [migrated] = await s.audit.query({ subject: account.id, type: 'credential.migrated', limit: 5 });
      assert.deepEqual(migrated!.details, { step: 'neural', templates: 1, format: 'cancelable-v1' });
      // The migrated template serves the next sign-in.
      assert.equal((await verify(account, cutEdf(eegFile(22, 2), 20, 10))).ok, true);
    });

    test('re-enrolment issues a new key: the old template does not match the new one; another master key\'s does not match', async () => {
      const account = await s.accounts.create({ username: 'max' });
      const recording = upload(cutEdf(eegFile(24, 1), 0, 60));
      assert.ok((await step.saveEnrollment(account, [recording], at)).ok);
      const old = await storedTemplate(account.id);
      assert.ok((await step.saveEnrollment(account, [recording], at)).ok);
      const fresh = await storedTemplate(account.id);
      assert.ok(!old.salt.equals(fresh.salt));
      const threshold = (await step.embed(step.decode(Buffer.from(cutEdf(eegFile(24, 2), 0, 10))).recording)).threshold;
      assert.ok(Math.cos(Math.PI * hammingFraction(old.bits, fresh.bits, old.bitCount)) < threshold);

      const { embedding: probe } = await step.embed(step.decode(Buffer.from(cutEdf(eegFile(24, 2), 0, 10))).recording);
      const otherDeployment = NeuralCredentials.forMasterKey(s.db, randomBytes(32), s.log);
      const own = await NeuralCredentials.forMasterKey(s.db, s.masterKey.key, s.log).template(account.id);
      assert.ok(Math.cos(NeuralCredentials.forMasterKey(s.db, s.masterKey.key, s.log).scheme.angleTo(probe.vector, own!.stored)) >= threshold);
      assert.ok(Math.cos(otherDeployment.scheme.angleTo(probe.vector, own!.stored)) < threshold, "another master key's keys do not match it");
      // Nor does the same person's template in another deployment, compared bits against bits.
      const elsewhere = otherDeployment.scheme.issue(probe.vector);
      assert.ok(Math.cos(Math.PI * hammingFraction(elsewhere.bits, fresh.bits, fresh.bitCount)) < threshold);
    });
  });
}
