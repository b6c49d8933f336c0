// The decision of a fused requirement on real stores: the sum against −ln(FAR), what it audits,
// and the lock-out that rejected fused decisions build up per account and source.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../config/load.js';
import { createLogger } from '../../src/log.js';
import { FusedMatches } from '../../src/interaction/fused-matches.js';
import { CredentialThrottle } from '../../src/security/credential-throttle.js';
import { openServices, type Services } from '../../src/services.js';
import { BACKENDS, type Backend } from '../support/backends.js';

const requirement = { fuse: ['face', 'neural'], far: 1e-4 };
const amr = (step: string) => (step === 'neural' ? 'eeg' : step);
// −ln(1e-4) = 9.21: 5 + 4.5 passes, 5 + 4 does not.
const evidence = (neuralLlr: number) => ({ face: { matcher: 'face', score: 0.35, llr: 5 }, neural: { matcher: 'neural', score: 0.4, llr: neuralLlr } });

for (const makeBackend of BACKENDS) {
  describe(`fused decisions (${makeBackend.name === 'sqliteBackend' ? 'SQLite' : 'PostgreSQL + Redis'})`, () => {
    let backend: Backend;
    let s: Services;
    let fusion: FusedMatches;
    const at = { ip: '192.0.2.20', userAgent: 'test-agent', clientId: 'app' };

    before(async () => {
      backend = await makeBackend();
      const config = loadConfig({ ...backend.env, TESSERA_MASTER_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'silent' });
      s = await openServices(config, createLogger('silent'));
      fusion = new FusedMatches(new CredentialThrottle(s.rateCounter, { maxFailuresPerAccount: 3, maxFailuresPerIp: 100, windowSeconds: 60, lockoutSeconds: 60 }), s.audit);
    });
    after(async () => {
      await s.close();
      await backend.dispose();
    });

    test('accepts at the summed LLR, audits every part and the sum', async () => {
      const account = await s.accounts.create({ username: 'uma', password: 'long enough pw' });
      assert.equal(await fusion.decide(requirement, evidence(4), account, at, amr), false);
      assert.equal(await fusion.decide(requirement, evidence(4.5), account, at, amr), true);
      await s.audit.flush();
      const [accepted, rejected] = await s.audit.query({ subject: account.id });
      assert.equal(accepted!.type, 'login.succeeded');
      assert.deepEqual(accepted!.details, {
        step: 'fuse',
        fuse: ['face', 'neural'],
        far: 1e-4,
        scores: [
          { step: 'face', matcher: 'face', score: 0.35, llr: 5 },
          { step: 'neural', matcher: 'neural', score: 0.4, llr: 4.5 },
        ],
        llr: 9.5,
        threshold: 9.21,
        decision: 'accept',
        amr: ['face', 'eeg'],
      });
      assert.equal(rejected!.type, 'login.failed');
      assert.equal(rejected!.details!.reason, 'fused_no_match');
      assert.equal(rejected!.details!.llr, 9);
    });

    test('a face that could not be scored (LLR −∞, null once stored as JSON) cannot be carried', async () => {
      const account = await s.accounts.create({ username: 'vic', password: 'long enough pw' });
      const stored = JSON.parse(JSON.stringify({ ...evidence(50), face: { matcher: 'face', score: 2, llr: -Infinity } }));
      assert.equal(stored.face.llr, null);
      assert.equal(await fusion.decide(requirement, stored, account, at, amr), false);
      await assert.rejects(fusion.decide(requirement, { face: evidence(1).face }, account, at, amr), /without evidence from neural/);
    });

    test('rejected fused decisions lock the account out; the lock is audited and refused with Retry-After', async () => {
      const account = await s.accounts.create({ username: 'wes', password: 'long enough pw' });
      assert.equal(await fusion.locked(account, at), undefined);
      for (let i = 0; i < 3; i++) assert.equal(await fusion.decide(requirement, evidence(-20), account, at, amr), false);
      const locked = await fusion.locked(account, at);
      assert.equal(locked?.status, 429);
      assert.ok(locked!.retryAfterSeconds! > 0);
      assert.match(locked!.message, /Too many combined checks did not match/);
      await s.audit.flush();
      const types = (await s.audit.query({ subject: account.id })).map((e) => `${e.type}:${(e.details as { reason?: string; scope?: string }).reason ?? (e.details as { scope?: string }).scope}`);
      assert.deepEqual(types.slice(0, 3), ['login.failed:locked_account', 'login.locked_out:account', 'login.failed:fused_no_match']);
    });
  });
}
