import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { pino } from 'pino';
import { loadBreachedPasswords } from '../../src/accounts/breached-passwords.js';
import { PasswordPolicy, PasswordRefused, type PasswordPolicySettings } from '../../src/accounts/password-policy.js';
import { createLogger } from '../../src/log.js';

const breached = loadBreachedPasswords(createLogger('silent'));
const policy = (settings: Partial<PasswordPolicySettings> = {}) => new PasswordPolicy({ minLength: 8, minScore: 3, breachCheck: true, ...settings }, breached);
const carol = { username: 'carol', email: 'carol.jones@example.com', name: 'Carol Jones' };
const refusal = async (p: PasswordPolicy, password: string) => {
  try {
    await p.check(password, carol);
  } catch (err) {
    if (err instanceof PasswordRefused) return { reason: err.reason, message: err.message };
    throw err;
  }
  return undefined;
};

test('a password is refused when too short, leaked (in any case) or too easy to guess, with a readable reason', async () => {
  assert.ok(breached, 'the filter is built at install (npm run passwords:build)');
  assert.deepEqual(await refusal(policy({ minLength: 12 }), 'Xk9!vb2#Lq'), { reason: 'too_short', message: 'The password must be at least 12 characters long.' });
  // Scores 3 for zxcvbn, but it is on the leaked list: only the list catches it.
  for (const leaked of ['Teleseti83', 'TELESETI83']) assert.equal((await refusal(policy(), leaked))?.reason, 'breached');
  assert.match((await refusal(policy(), 'Teleseti83'))!.message, /^This password appears in lists of leaked passwords/);
  assert.equal(await refusal(policy({ breachCheck: false }), 'Teleseti83'), undefined, 'the list check can be switched off');
  // Not on the list, but built from the owner's own name and email.
  const personal = await refusal(policy(), 'carol.jones2024');
  assert.equal(personal?.reason, 'weak');
  assert.match(personal!.message, /^Too easy to guess: .+/);
  assert.equal(await refusal(policy({ minScore: 1 }), 'carol.jones2024'), undefined, 'the minimum score is the policy’s');
  assert.equal(await refusal(policy(), 'correct horse battery staple'), undefined);
});

test('without the filter file the server starts with a warning and checks length and strength only', async () => {
  const lines: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
  const missing = loadBreachedPasswords(log, join(tmpdir(), 'no-such-dir', 'breached.bloom'));
  assert.equal(missing, undefined);
  assert.match(lines.join(''), /breached-password filter missing.*NOT checked/);
  const p = new PasswordPolicy({ minLength: 8, minScore: 3, breachCheck: true }, missing);
  await assert.doesNotReject(p.check('Teleseti83', carol));
  await assert.rejects(p.check('password', carol), PasswordRefused);
});
