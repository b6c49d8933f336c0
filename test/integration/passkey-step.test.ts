// The passkey step's checks without a browser: a software authenticator (test/support) answers
// the step's real options, on each backend (the challenges live in Redis or SQL).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../config/load.js';
import type { Account } from '../../src/accounts/accounts.js';
import { createLogger } from '../../src/log.js';
import { openServices, type Services } from '../../src/services.js';
import { createPasskeyStep } from '../../src/steps/passkey/index.js';
import type { PasskeyStep } from '../../src/steps/passkey/passkey-step.js';
import type { StepOutcome } from '../../src/steps/step.js';
import { BACKENDS, type Backend } from '../support/backends.js';
import { SoftwareAuthenticator } from '../support/software-authenticator.js';

const ORIGIN = 'https://id.example.test';
const at = { ip: '192.0.2.44', userAgent: 'test-agent' };
const form = (fields: Record<string, string>) => ({ fields, files: [] });
const challengeOf = async (prompt: Promise<Record<string, unknown>>) => (JSON.parse(String((await prompt).options)) as { challenge: string }).challenge;
const reasonOf = (outcome: StepOutcome) => (outcome.ok ? 'ok' : outcome.message);

for (const makeBackend of BACKENDS) {
  describe(`passkey step (${makeBackend.name === 'sqliteBackend' ? 'SQLite' : 'PostgreSQL + Redis'})`, () => {
    let backend: Backend;
    let s: Services;
    let step: PasskeyStep;
    let sign = 0;

    before(async () => {
      backend = await makeBackend();
      const config = loadConfig({ ...backend.env, ISSUER: ORIGIN, TESSERA_MASTER_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'silent' });
      s = await openServices(config, createLogger('silent'));
      step = createPasskeyStep(s);
    });
    after(async () => {
      await s.close();
      await backend.dispose();
    });

    const newAccount = () => s.accounts.create({ username: `user${++sign}`, password: 'long enough password' });

    /** Registers `authenticator`'s passkey through the step's own set-up (under a flow requirement's `settings`). */
    async function register(authenticator: SoftwareAuthenticator, account: Account, settings?: Record<string, unknown>) {
      const state = { account, pending: '', contextId: `setup-${++sign}`, settings };
      const challenge = await challengeOf(step.enrollment.prompt(state));
      return step.enrollment.confirm(form({ name: 'Key', response: authenticator.register(challenge, ORIGIN) }), state, at);
    }

    /** A new account with `authenticator`'s passkey. */
    async function enrolled(authenticator: SoftwareAuthenticator): Promise<Account> {
      const account = await newAccount();
      const outcome = await register(authenticator, account);
      assert.equal(outcome.ok, true, JSON.stringify(outcome));
      return account;
    }

    /** One sign-in attempt: the step's options for a new sign-in, answered by `authenticator`. */
    async function signIn(authenticator: SoftwareAuthenticator, account: Account, opts: { origin?: string; rpId?: string; secondFactorOf?: Account; interactionId?: string; settings?: Record<string, unknown> } = {}) {
      const state = { interactionId: opts.interactionId ?? `sign-in-${++sign}`, account: opts.secondFactorOf, settings: opts.settings };
      const challenge = await challengeOf(step.prompt(state));
      const response = authenticator.assert(challenge, opts.origin ?? ORIGIN, { rpId: opts.rpId, userHandle: account.id });
      return { outcome: await step.verify(form({ response }), state, at), response, state };
    }

    async function audited(type: string, reason?: string) {
      await s.audit.flush();
      return (await s.audit.query({ type })).filter((e) => e.details?.step === 'passkey' && (reason === undefined || e.details.reason === reason));
    }

    test('a registered passkey signs in by itself; amr says device-bound or synced, and user verification', async () => {
      const bound = new SoftwareAuthenticator();
      const account = await enrolled(bound);
      bound.counter = 1;
      const { outcome } = await signIn(bound, account);
      assert.ok(outcome.ok);
      assert.equal(outcome.account.id, account.id);
      assert.deepEqual(outcome.amr, ['hwk', 'user']);

      const synced = new SoftwareAuthenticator(undefined, true);
      const other = await enrolled(synced);
      const second = await signIn(synced, other);
      assert.ok(second.outcome.ok);
      assert.deepEqual(second.outcome.amr, ['swk', 'user']);
      const listed = await step.enrollment.several!.list(other);
      assert.equal(listed[0]!.kind, 'synced passkey');
      assert.ok(listed[0]!.lastUsedAt, 'the use is recorded');
    });

    test('a signature counter that does not go up is refused and audited as a possible clone', async () => {
      const authenticator = new SoftwareAuthenticator();
      const account = await enrolled(authenticator);
      authenticator.counter = 5;
      assert.equal((await signIn(authenticator, account)).outcome.ok, true);
      const { outcome } = await signIn(authenticator, account);
      assert.match(reasonOf(outcome), /use count that went backwards/);
      assert.equal(!outcome.ok && outcome.status, 401);
      const [warning] = (await audited('credential.clone_suspected')).filter((e) => e.subject === account.id);
      assert.deepEqual([warning?.details?.stored_count, warning?.details?.reported_count], [5, 5]);
      authenticator.counter = 6;
      assert.equal((await signIn(authenticator, account)).outcome.ok, true, 'a higher count is accepted again');
    });

    test('a challenge is good once, only for the sign-in it was issued to, and not after it expires', async () => {
      const authenticator = new SoftwareAuthenticator();
      const account = await enrolled(authenticator);
      authenticator.counter = 1;
      const { outcome, response, state } = await signIn(authenticator, account);
      assert.equal(outcome.ok, true);
      assert.match(reasonOf(await step.verify(form({ response }), state, at)), /already used/);
      // Another sign-in's page cannot use this sign-in's challenge.
      const elsewhere = await challengeOf(step.prompt({ interactionId: 'victim' }));
      authenticator.counter = 2;
      const stolen = authenticator.assert(elsewhere, ORIGIN, { userHandle: account.id });
      assert.match(reasonOf(await step.verify(form({ response: stolen }), { interactionId: 'attacker' }, at)), /does not belong to this sign-in/);

      const quick = createPasskeyStep({ ...s, config: { ...s.config, passkeyChallengeSeconds: 1 } });
      const late = await challengeOf(quick.prompt({ interactionId: 'slow' }));
      await new Promise((r) => setTimeout(r, 1100));
      assert.match(reasonOf(await quick.verify(form({ response: authenticator.assert(late, ORIGIN, { userHandle: account.id }) }), { interactionId: 'slow' }, at)), /expired/);
      assert.equal((await audited('login.failed', 'challenge_expired')).length >= 1, true);
    });

    test("an unknown passkey, or another account's as a second factor, is refused; failures lock the account", async () => {
      const stranger = new SoftwareAuthenticator();
      const account = await enrolled(new SoftwareAuthenticator());
      assert.match(reasonOf((await signIn(stranger, account)).outcome), /not registered/);
      const theirs = new SoftwareAuthenticator();
      const owner = await enrolled(theirs);
      for (let i = 0; i < s.config.login.maxFailuresPerAccount; i++) {
        theirs.counter++;
        const { outcome } = await signIn(theirs, owner, { secondFactorOf: account });
        assert.match(reasonOf(outcome), /not registered/);
      }
      const { outcome } = await signIn(theirs, owner, { secondFactorOf: account });
      assert.equal(!outcome.ok && outcome.status, 429);
      assert.equal((await audited('login.locked_out')).filter((e) => e.subject === account.id).length, 1);
    });

    test('responses made for another origin or RP ID are refused and audited; a registration from one stores nothing', async () => {
      const authenticator = new SoftwareAuthenticator();
      const account = await enrolled(authenticator);
      authenticator.counter = 1;
      const origin = await signIn(authenticator, account, { origin: 'https://evil.example', rpId: 'id.example.test' });
      assert.equal(!origin.outcome.ok && origin.outcome.status, 400);
      assert.match(reasonOf(origin.outcome), /made for another website/);
      const rp = await signIn(authenticator, account, { rpId: 'evil.example' });
      assert.match(reasonOf(rp.outcome), /belongs to another website/);
      assert.equal((await audited('login.failed', 'wrong_origin')).filter((e) => e.subject === account.id).length, 1);
      assert.equal((await audited('login.failed', 'wrong_rp_id')).filter((e) => e.subject === account.id).length, 1);

      const fresh = await newAccount();
      const state = { account: fresh, pending: '', contextId: 'phished-setup' };
      const challenge = await challengeOf(step.enrollment.prompt(state));
      const refused = await step.enrollment.confirm(form({ name: 'Key', response: new SoftwareAuthenticator().register(challenge, 'https://evil.example') }), state, at);
      assert.equal(refused.ok, false);
      assert.deepEqual(await step.enrollment.several!.list(fresh), []);
      assert.equal((await audited('credential.enroll_failed', 'wrong_origin')).filter((e) => e.subject === fresh.id).length, 1);
    });

    test("a flow's AAGUID allow-list refuses other authenticators, at registration and at sign-in", async () => {
      const approved = '08987058-cadc-4b81-b6e1-30de50dcbe96';
      const settings = { aaguids: [approved.toUpperCase()] };
      assert.deepEqual(step.settingsProblems(settings), []);
      assert.match(step.settingsProblems({ aaguids: ['not-a-guid'] }).join(), /aaguids\.0: an AAGUID is written like/);
      assert.match(step.settingsProblems({ colour: 'red' }).join(), /colour/);

      const account = await newAccount();
      const refused = await register(new SoftwareAuthenticator('2fc0579f-8113-47ea-b116-bb5a8db9202a'), account, settings);
      assert.equal(!refused.ok && refused.status, 403);
      assert.deepEqual(await step.enrollment.several!.list(account), [], 'nothing stored');
      assert.equal((await audited('credential.enroll_failed', 'aaguid_not_allowed')).filter((e) => e.subject === account.id).length, 1);
      const key = new SoftwareAuthenticator(approved);
      assert.equal((await register(key, account, settings)).ok, true);
      assert.equal((await signIn(key, account, { settings })).outcome.ok, true);

      // A passkey set up where any authenticator was welcome is refused by the flow that lists models.
      const other = new SoftwareAuthenticator('2fc0579f-8113-47ea-b116-bb5a8db9202a');
      const elsewhere = await enrolled(other);
      const { outcome } = await signIn(other, elsewhere, { settings });
      assert.equal(!outcome.ok && outcome.status, 403);
      assert.match(reasonOf(outcome), /approved authenticators/);
    });
  });
}
