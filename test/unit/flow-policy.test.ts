import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../config/load.js';
import type { Account } from '../../src/accounts/accounts.js';
import { FlowPolicy } from '../../src/interaction/flow-policy.js';
import { StepRegistry } from '../../src/steps/registry.js';
import type { Step } from '../../src/steps/step.js';

// Policy decisions depend only on each step's id, amr, identifies flag, fusion capability, whether
// it can stream (the policy only asks whether `streams` is there) and enrolment.
function stepDouble(id: string, identifies: boolean, enrolled: Set<string>, streaming = ['neural']): Step {
  return {
    id,
    amr: id,
    label: id,
    identifies,
    ...(id === 'face' || id === 'neural' ? { fusion: { matcher: id } } : {}),
    ...(streaming.includes(id) ? { streams: {} as NonNullable<Step['streams']> } : {}),
    view: id,
    isEnrolled: async (account) => enrolled.has(`${account.username}:${id}`),
    prompt: async () => ({}),
    verify: async () => ({ ok: false, status: 401, message: 'unused' }),
  };
}

const alice = { id: 'a1', username: 'alice' } as Account;
const enrolled = new Set(['alice:password', 'alice:totp', 'alice:face']);
const registry = new StepRegistry(['password', 'totp', 'face', 'neural'].map((id) => stepDouble(id, id === 'password', enrolled)));
const config = {
  flows: {
    password: [{ step: 'password' }],
    mfa: [{ step: 'password' }, { step: 'totp' }],
    strong: [{ step: 'password' }, { anyOf: ['totp', 'face', 'neural'], count: 2 }],
    bio: [{ step: 'password' }, { step: 'neural' }],
    fused: [{ step: 'password' }, { fuse: ['face', 'neural'], far: 1e-4 }],
  },
  defaultFlow: 'password',
  acr: { 'urn:x:pwd': 'password', 'urn:x:mfa': 'mfa', 'urn:x:strong': 'strong' },
};
const policy = new FlowPolicy(config, registry);

test('resolves the flow by requested acr, then the client, then the default', () => {
  assert.equal(policy.resolve(['urn:unknown', 'urn:x:mfa'], undefined).name, 'mfa');
  assert.equal(policy.resolve(['urn:x:mfa'], undefined).acr, 'urn:x:mfa');
  assert.equal(policy.resolve([], { client_id: 'c', tessera_flow: 'strong' }).name, 'strong');
  assert.equal(policy.resolve([], undefined).name, 'password');
  assert.equal(policy.resolve([], undefined).acr, 'urn:x:pwd');
  assert.deepEqual(policy.acrValues, ['urn:x:pwd', 'urn:x:mfa', 'urn:x:strong']);
});

test('walks the requirements in order, skipping what is done', async () => {
  const mfa = policy.byName('mfa');
  assert.equal(((await policy.next(mfa, new Set(), undefined)) as { step: Step }).step.id, 'password');
  assert.equal(((await policy.next(mfa, new Set(['password']), alice)) as { step: Step }).step.id, 'totp');
  assert.equal((await policy.next(mfa, new Set(['password', 'totp']), alice)).kind, 'complete');
});

test('"any 2 of" offers only enrolled steps and completes after two', async () => {
  const strong = policy.byName('strong');
  assert.equal(((await policy.next(strong, new Set(['password']), alice)) as { step: Step }).step.id, 'totp');
  assert.equal(((await policy.next(strong, new Set(['password', 'totp']), alice)) as { step: Step }).step.id, 'face');
  assert.equal((await policy.next(strong, new Set(['password', 'totp', 'face']), alice)).kind, 'complete');
});

test('a required step the account has not enrolled blocks the sign-in', async () => {
  assert.deepEqual(await policy.next(policy.byName('bio'), new Set(['password']), alice), { kind: 'blocked', missing: ['neural'] });
  const bob = { id: 'b1', username: 'bob' } as Account;
  assert.deepEqual(await policy.next(policy.byName('strong'), new Set(['password']), bob), { kind: 'blocked', missing: ['totp', 'face', 'neural'] });
});

test('flows naming unknown steps, or not starting with an identifying step, are configuration errors', () => {
  assert.throws(() => new FlowPolicy({ ...config, flows: { x: [{ step: 'webauthn' }] }, defaultFlow: 'x', acr: {} }, registry), (e: ConfigError) => /unknown step webauthn/.test(e.message));
  assert.throws(() => new FlowPolicy({ ...config, flows: { x: [{ step: 'totp' }] }, defaultFlow: 'x', acr: {} }, registry), /must identify the user/);
});

test('replace swaps in a new set of flows whole, or keeps the old one when the new one is invalid', () => {
  const live = new FlowPolicy(config, registry);
  live.replace({ ...config, flows: { ...config.flows, face: [{ step: 'password' }, { step: 'face' }] }, acr: { ...config.acr, 'urn:x:face': 'face' } });
  assert.equal(live.resolve(['urn:x:face'], undefined).name, 'face');
  assert.ok(live.acrValues.includes('urn:x:face'));
  assert.throws(() => live.replace({ ...config, flows: { ...config.flows, x: [{ step: 'password' }, { anyOf: ['totp', 'totp'], count: 2 }] } }), /anyOf lists a step twice/);
  assert.ok(live.has('face') && !live.has('x'), 'the invalid set was not applied, not even in part');
});

test('knows which steps the configured flows can ask for (so only those load their models at start)', () => {
  assert.deepEqual([...policy.stepsInUse()].sort(), ['face', 'neural', 'password', 'totp']);
  assert.deepEqual([...new FlowPolicy({ ...config, flows: { f: config.flows.fused }, defaultFlow: 'f', acr: {} }, registry).stepsInUse()].sort(), ['face', 'neural', 'password']);
  const plain = new FlowPolicy({ flows: { password: [{ step: 'password' }], mfa: [{ step: 'password' }, { step: 'totp' }] }, defaultFlow: 'password', acr: {} }, registry);
  assert.deepEqual([...plain.stepsInUse()].sort(), ['password', 'totp']);
});

test('a fused requirement asks each of its steps in fused mode, then for the decision', async () => {
  const fused = policy.byName('fused');
  const both = { id: 'c1', username: 'carol' } as Account;
  enrolled.add('carol:password').add('carol:face').add('carol:neural');
  const first = await policy.next(fused, new Set(['password']), both);
  assert.equal(first.kind, 'step');
  assert.equal((first as { step: Step }).step.id, 'face');
  assert.deepEqual((first as { fused?: unknown }).fused, { fuse: ['face', 'neural'], far: 1e-4 });
  const second = await policy.next(fused, new Set(['password']), both, new Set(['face']));
  assert.equal((second as { step: Step }).step.id, 'neural');
  assert.deepEqual(await policy.next(fused, new Set(['password']), both, new Set(['face', 'neural'])), { kind: 'decide', requirement: { fuse: ['face', 'neural'], far: 1e-4 } });
  assert.equal((await policy.next(fused, new Set(['password', 'face', 'neural']), both)).kind, 'complete');
  // A session that did only the face earlier has no evidence to add: both are asked again.
  assert.equal(((await policy.next(fused, new Set(['password', 'face']), both)) as { step: Step }).step.id, 'face');
  // Every fused step must be set up (alice has no neural enrolment).
  assert.deepEqual(await policy.next(fused, new Set(['password']), alice), { kind: 'blocked', missing: ['face', 'neural'] });
});

test('invalid fused requirements are refused with a message naming the problem', () => {
  const flowsWith = (requirements: unknown[]) => ({ ...config, flows: { x: requirements }, defaultFlow: 'x', acr: {} }) as never;
  const refused = (requirements: unknown[], message: RegExp) => assert.throws(() => new FlowPolicy(flowsWith(requirements), registry), message);
  refused([{ step: 'password' }, { fuse: ['face', 'face'], far: 1e-4 }], /fuse lists a step twice/);
  refused([{ step: 'password' }, { fuse: ['face', 'totp'], far: 1e-4 }], /totp cannot be fused: it has no calibrated score \(steps that can: face, neural\)/);
  refused([{ step: 'password' }, { step: 'face' }, { fuse: ['face', 'neural'], far: 1e-4 }], /face is fused here and also required elsewhere/);
  refused([{ fuse: ['face', 'neural'], far: 1e-4 }], /must identify the user/);
  refused([{ step: 'password' }, { fuse: ['face', 'iris'], far: 1e-4 }], /unknown step iris/);
});

test('a fused requirement that monitors the session: its streaming step keeps verifying; impossible ones are refused', async () => {
  const watched = { fuse: ['face', 'neural'], far: 1e-4, continuous: { silenceSeconds: 20 } };
  const p = new FlowPolicy({ ...config, flows: { ...config.flows, watched: [{ step: 'password' }, watched] } }, registry);
  const flow = p.byName('watched');
  const dora = { id: 'd1', username: 'dora' } as Account;
  enrolled.add('dora:password').add('dora:face').add('dora:neural');
  const face = (await p.next(flow, new Set(['password']), dora)) as { step: Step; continuous?: unknown; fused?: unknown };
  assert.equal(face.step.id, 'face');
  assert.equal(face.continuous, undefined, 'the face cannot stream');
  const neural = (await p.next(flow, new Set(['password']), dora, new Set(['face']))) as { step: Step; continuous?: unknown; fused?: unknown };
  assert.equal(neural.step.id, 'neural');
  assert.deepEqual(neural.fused, watched);
  assert.deepEqual(neural.continuous, { silenceSeconds: 20 });
  assert.deepEqual(p.monitoring(flow, 'neural'), { silenceSeconds: 20 });
  assert.equal(p.monitoring(flow, 'face'), undefined);

  const flowsWith = (requirements: unknown[]) => ({ ...config, flows: { x: requirements }, defaultFlow: 'x', acr: {} }) as never;
  const refused = (requirements: unknown[], message: RegExp, steps = registry) => assert.throws(() => new FlowPolicy(flowsWith(requirements), steps), message);
  refused([{ step: 'password' }, { step: 'totp', continuous: {} }], /totp cannot verify continuously \(steps that can: neural\)/);
  refused([{ step: 'password' }, { ...watched, continuous: { windowSeconds: 1 } }], /x\[1\]\.continuous: windowSeconds must be a whole number from 2 to 60/);
  const silent = new StepRegistry(['password', 'face', 'neural'].map((id) => stepDouble(id, id === 'password', enrolled, [])));
  refused([{ step: 'password' }, watched], /face \+ neural cannot verify continuously \(steps that can: none\)/, silent);
  const both = new StepRegistry(['password', 'face', 'neural'].map((id) => stepDouble(id, id === 'password', enrolled, ['face', 'neural'])));
  refused([{ step: 'password' }, watched], /only one fused step may keep verifying the session \(face and neural can\)/, both);
});

test("a step requirement's settings are checked by that step and handed to it when it comes next", async () => {
  const picky: Step = { ...stepDouble('key', true, enrolled), settingsProblems: (s) => (s.size === 'ok' ? [] : ['size: not ok']) };
  const withKey = new StepRegistry([stepDouble('password', true, enrolled), picky]);
  const flowsOf = (flow: unknown[]) => ({ flows: { f: flow }, defaultFlow: 'f', acr: {} }) as ConstructorParameters<typeof FlowPolicy>[0];
  assert.throws(() => new FlowPolicy(flowsOf([{ step: 'key', settings: { size: 'big' } }]), withKey), (e: ConfigError) => e.problems.includes('flows.f[0].settings: size: not ok'));
  assert.throws(() => new FlowPolicy(flowsOf([{ step: 'password', settings: { size: 'ok' } }]), withKey), (e: ConfigError) => e.problems.includes('flows.f[0].settings: takes no settings'));
  const accepted = new FlowPolicy(flowsOf([{ step: 'password' }, { step: 'key', settings: { size: 'ok' } }]), withKey);
  const next = await accepted.next(accepted.byName('f'), new Set(['password']), undefined);
  assert.deepEqual(next.kind === 'step' ? [next.step.id, next.settings] : next.kind, ['key', { size: 'ok' }]);
});

test('a step that reports its own amr values is recognised in a session by them, and named once', async () => {
  const key: Step = { ...stepDouble('key', true, enrolled), amr: 'hwk', label: 'Passkey', amrIn: (amr) => (amr.includes('hwk') ? ['hwk', ...(amr.includes('user') ? ['user'] : [])] : []) };
  const withKey = new StepRegistry([stepDouble('password', true, enrolled), stepDouble('totp', false, enrolled), key]);
  assert.deepEqual([...withKey.amrBySteps(['pwd', 'hwk', 'user'])], [['key', ['hwk', 'user']]]);
  assert.deepEqual(withKey.doneIn(['password', 'hwk', 'user']), ['password', 'key']);
  assert.deepEqual(withKey.doneIn(['password', 'user']), ['password'], '"user" alone is no sign of the step');
  assert.equal(withKey.methodNames(['password', 'hwk', 'user']), 'password, Passkey');
  const stepped = new FlowPolicy({ flows: { f: [{ step: 'password' }, { step: 'key' }] }, defaultFlow: 'f', acr: { 'urn:x:key': 'f' } }, withKey);
  assert.equal(await stepped.satisfiedBy(['urn:x:key'], ['password', 'hwk', 'user'], undefined), true);
  assert.equal(await stepped.satisfiedBy(['urn:x:key'], ['password'], undefined), false);
});
