import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import argon2 from 'argon2';
import bcrypt from 'bcryptjs';
import { loadConfig } from '../../config/load.js';
import { createLogger } from '../../src/log.js';
import { openServices, type Services } from '../../src/services.js';
import { CredentialThrottle } from '../../src/security/credential-throttle.js';
import { PasswordStep } from '../../src/steps/password/password-step.js';
import { BACKENDS, type Backend } from '../support/backends.js';

const form = (fields: Record<string, string>) => ({ fields, files: [] });
const state = { interactionId: 'test-interaction' };

for (const makeBackend of BACKENDS) {
  describe(`password step and audit trail (${makeBackend.name === 'sqliteBackend' ? 'SQLite' : 'PostgreSQL + Redis'})`, () => {
    let backend: Backend;
    let s: Services;
    let step: PasswordStep;
    const at = { ip: '192.0.2.10', userAgent: 'test-agent' };

    before(async () => {
      backend = await makeBackend();
      const config = loadConfig({ ...backend.env, TESSERA_MASTER_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'silent' });
      s = await openServices(config, createLogger('silent'));
      const throttle = new CredentialThrottle(s.rateCounter, { maxFailuresPerAccount: 3, maxFailuresPerIp: 100, windowSeconds: 60, lockoutSeconds: 60 });
      step = await PasswordStep.create(s.accounts, throttle, s.audit, s.log);
    });
    after(async () => {
      await s.close();
      await backend.dispose();
    });

    test('an imported bcrypt hash logs in and is re-hashed to argon2id', async () => {
      const account = await s.accounts.create({ username: 'legacy', passwordHash: bcrypt.hashSync('old-system-password', 4) });
      const result = await step.verify(form({ username: 'Legacy', password: 'old-system-password' }), state, at);
      assert.equal(result.ok, true);
      const stored = await s.accounts.passwordHashOf('legacy');
      assert.match(stored!.hash!, /^\$argon2id\$/);
      assert.equal((await step.verify(form({ username: 'legacy', password: 'old-system-password' }), state, at)).ok, true, 'still logs in after the upgrade');
      assert.equal(stored!.account.id, account.id);
    });

    test('disabled accounts are refused after the password check', async () => {
      const account = await s.accounts.create({ username: 'gone', password: 'long enough pw' });
      await s.accounts.setDisabled(account.id, true);
      const refused = await step.verify(form({ username: 'gone', password: 'long enough pw' }), state, at);
      assert.equal(refused.ok, false);
      assert.equal(!refused.ok && refused.status, 403);
    });

    test('unknown users get the same argon2id work as wrong passwords', async () => {
      // One wrong attempt per known account, so the lockout never cuts an attempt short.
      for (let i = 0; i < 5; i++) await s.accounts.create({ username: `timing${i}`, password: 'long enough pw' });
      // Which hashes get verified, with what parameters: the decoy must cost what a real hash costs.
      const verified: string[] = [];
      const real = argon2.verify;
      argon2.verify = ((hash: string, ...rest: Parameters<typeof real> extends [string, ...infer R] ? R : never) => {
        verified.push(hash);
        return real(hash, ...rest);
      }) as typeof real;
      const time = async (u: string) => {
        const t = process.hrtime.bigint();
        await step.verify(form({ username: u, password: 'incorrect password' }), state, { ip: `198.51.100.${Math.floor(Math.random() * 250)}` });
        return Number(process.hrtime.bigint() - t) / 1e6;
      };
      const wrong: number[] = [];
      const unknown: number[] = [];
      try {
        for (let i = 0; i < 5; i++) {
          wrong.push(await time(`timing${i}`));
          unknown.push(await time(`nobody${i}`));
        }
      } finally {
        argon2.verify = real;
      }
      assert.equal(verified.length, 10, 'one argon2id verification per attempt, known user or not');
      const params = new Set(verified.map((h) => h.split('$').slice(1, 4).join('$')));
      assert.deepEqual([...params], ['argon2id$v=19$m=19456,p=1,t=2'], 'the decoy hash has the real parameters');
      // A loose timing check on top (the suite shares the machine): same order of magnitude.
      const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const [w, u] = [median(wrong), median(unknown)];
      assert.ok(u > w * 0.33 && u < w * 3, `unknown ${u.toFixed(1)} ms vs wrong ${w.toFixed(1)} ms`);
    });

    test('lockout after the configured failures; success resets the count', async () => {
      await s.accounts.create({ username: 'frank', password: 'long enough pw' });
      await step.verify(form({ username: 'frank', password: 'bad-1' }), state, at);
      await step.verify(form({ username: 'frank', password: 'bad-2' }), state, at);
      assert.equal((await step.verify(form({ username: 'frank', password: 'long enough pw' }), state, at)).ok, true, 'two failures then success');
      for (let i = 0; i < 3; i++) await step.verify(form({ username: 'frank', password: `bad-${i}` }), state, at);
      const locked = await step.verify(form({ username: 'frank', password: 'long enough pw' }), state, at);
      assert.equal(locked.ok, false);
      assert.equal(!locked.ok && locked.status, 429);
    });

    test('the audit trail records attempts without secrets and cannot be altered', async () => {
      await s.audit.flush();
      const events = await s.audit.query({ limit: 500 });
      assert.ok(events.some((e) => e.type === 'login.succeeded' && e.ip === at.ip && e.userAgent === 'test-agent'));
      assert.ok(events.some((e) => e.type === 'login.failed' && e.details?.reason === 'wrong_password'));
      assert.ok(events.some((e) => e.type === 'login.locked_out'));
      const text = JSON.stringify(events);
      for (const secret of ['long enough pw', 'old-system-password', 'bad-1', 'incorrect password']) assert.ok(!text.includes(secret), secret);
      await assert.rejects(s.db('audit_events').update({ outcome: 'success' }), /append-only/);
      await assert.rejects(s.db('audit_events').delete(), /append-only/);
    });
  });
}
