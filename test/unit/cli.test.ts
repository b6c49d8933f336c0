import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../config/load.js';
import { createLogger } from '../../src/log.js';
import { openServices } from '../../src/services.js';
import { PasskeyCredentials } from '../../src/steps/passkey/passkey-credentials.js';
import { runCli } from '../support/spawn.js';

const env = () => ({ DATA_DIR: mkdtempSync(join(tmpdir(), 'tessera-cli-')) });

test('invalid arguments exit 2 with a clear message', async () => {
  const e = env();
  const cases: [string[], RegExp][] = [
    [['frobnicate'], /unknown command: frobnicate/],
    [['user', 'create'], /missing --username/],
    [['user', 'create', '--username', 'x', '--bogus'], /Unknown option '--bogus'/],
    [['client', 'create', '--name', 'x', '--auth-method', 'magic'], /--auth-method must be one of/],
    [['keys', 'rotate', '--alg', 'HS256'], /--alg must be one of/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(args, e);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  const badEnv = await runCli(['user', 'list'], { ...e, PORT: 'x' });
  assert.equal(badEnv.code, 2);
  assert.match(badEnv.stderr, /PORT \(port\)/);
});

test('scriptable: password from stdin, JSON output, secrets printed once', async () => {
  const e = env();
  const created = await runCli(['user', 'create', '--username', 'Zoe', '--email', 'zoe@example.com', '--password-stdin', '--json'], e, 'a long enough password\n');
  assert.equal(created.code, 0, created.stderr);
  assert.equal(JSON.parse(created.stdout).username, 'zoe');
  const short = await runCli(['user', 'set-password', 'zoe'], { ...e, TESSERA_PASSWORD: 'short' });
  assert.equal(short.code, 1);
  assert.match(short.stderr, /at least 8 characters/);
  const leaked = await runCli(['user', 'create', '--username', 'yann', '--password-stdin'], e, 'Teleseti83\n');
  assert.equal(leaked.code, 1);
  assert.match(leaked.stderr, /appears in lists of leaked passwords/);
  const guessable = await runCli(['user', 'set-password', 'zoe'], { ...e, TESSERA_PASSWORD: 'zoe@example.com!' });
  assert.equal(guessable.code, 1);
  assert.match(guessable.stderr, /Too easy to guess/);
  const client = await runCli(['client', 'create', '--name', 'App', '--redirect-uri', 'https://app.example/cb', '--json'], e);
  const { client_id, client_secret } = JSON.parse(client.stdout);
  assert.match(client_secret, /^[A-Za-z0-9_-]{43}$/);
  const list = await runCli(['client', 'list', '--json'], e);
  assert.ok(!list.stdout.includes(client_secret), 'the secret is never listed');
  assert.equal(JSON.parse(list.stdout)[0].clientId, client_id);
  const updated = await runCli(['client', 'update', client_id, '--name', 'App 2', '--redirect-uri', 'https://app.example/cb2', '--json'], e);
  assert.equal(updated.code, 0, updated.stderr);
  assert.deepEqual(JSON.parse(updated.stdout).metadata.redirect_uris, ['https://app.example/cb2']);
  assert.equal(JSON.parse(updated.stdout).metadata.client_name, 'App 2');
  const rotated = await runCli(['client', 'rotate-secret', client_id, '--json'], e);
  assert.equal(rotated.code, 0, rotated.stderr);
  const fresh = JSON.parse(rotated.stdout).client_secret;
  assert.match(fresh, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(fresh, client_secret);
  const gone = await runCli(['user', 'delete', 'zoe'], e);
  assert.equal(gone.code, 0, gone.stderr);
  assert.deepEqual(JSON.parse((await runCli(['user', 'list', '--json'], e)).stdout), []);
  const del = await runCli(['client', 'delete', client_id], e);
  assert.equal(del.code, 0);
  const again = await runCli(['client', 'delete', client_id], e);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /no such client/);
});

test('flows: set from flags or a JSON file, list, get, delete; same checks and messages as the admin API', async () => {
  const e = env();
  const json = async (args: string[]) => {
    const r = await runCli([...args, '--json'], e);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  const fails = async (args: string[], code: number, message: RegExp) => {
    const r = await runCli(args, e);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stdout} ${r.stderr}`);
    assert.match(r.stderr, message);
  };
  const set = await json(['flow', 'set', 'strong', '--require', 'password', '--require', 'totp:1', '--enroll-at-login', '--acr', 'urn:example:strong']);
  assert.deepEqual(set.requirements, [{ step: 'password' }, { anyOf: ['totp'], count: 1 }]);
  assert.equal(set.enrollAtLogin, true);
  const file = join(e.DATA_DIR, 'flow.json');
  writeFileSync(file, JSON.stringify({ requirements: [{ step: 'password' }] }));
  assert.equal((await json(['flow', 'set', 'plain', '--file', file])).source, 'admin');
  assert.deepEqual(
    (await json(['flow', 'list'])).map((f: { name: string; source: string }) => `${f.name}:${f.source}`),
    ['password:config', 'mfa:config', 'plain:admin', 'strong:admin'],
  );
  assert.deepEqual((await json(['flow', 'get', 'strong'])).acrValues, ['urn:example:strong']);

  await fails(['flow', 'set', 'bad', '--require', 'password', '--require', 'retina'], 1, /flows\.bad: unknown step retina \(known: password, totp[a-z, ]*\)/);
  await fails(['flow', 'set', 'bad', '--require', 'password', '--acr', 'urn:tessera:acr:mfa'], 1, /already mapped to flow mfa/);
  await fails(['flow', 'set', 'mfa', '--require', 'password'], 1, /flow mfa is defined in the configuration file and is read-only/);
  await fails(['flow', 'set', 'bad', '--require', 'a,:x'], 2, /--require a,:x: expected STEP/);
  const fused = await json(['flow', 'set', 'bio', '--require', 'password', '--require', 'face+neural@1e-4']);
  assert.deepEqual(fused.requirements, [{ step: 'password' }, { fuse: ['face', 'neural'], far: 1e-4 }]);
  assert.match((await runCli(['flow', 'get', 'bio'], e)).stdout, /password → face\+neural fused at FAR 0\.0001/);
  await fails(['flow', 'set', 'bad', '--require', 'password', '--require', 'face+totp@1e-4'], 1, /totp cannot be fused/);
  await fails(['flow', 'set', 'bad', '--require', 'password', '--require', 'face+neural@1'], 2, /far must be at most 0\.01/);
  assert.equal((await json(['flow', 'delete', 'bio'])).deleted, true);
  await fails(['flow', 'set', 'bad'], 2, /missing --require or --file/);
  writeFileSync(file, JSON.stringify({ requirements: [{ step: 'password', count: 2 }] }));
  await fails(['flow', 'set', 'bad', '--file', file], 2, /file\.requirements\.0/);

  await fails(['client', 'create', '--name', 'App', '--redirect-uri', 'https://app.example/cb', '--flow', 'nope'], 1, /no flow named nope/);
  const client = JSON.parse((await runCli(['client', 'create', '--name', 'App', '--redirect-uri', 'https://app.example/cb', '--flow', 'plain', '--json'], e)).stdout);
  assert.equal(client.metadata.tessera_flow, 'plain');
  await fails(['flow', 'delete', 'plain'], 1, new RegExp(`default flow of client ${client.client_id}`));
  await fails(['flow', 'delete', 'strong'], 1, /mapped to acr value urn:example:strong; remove the mapping first/);
  assert.equal((await json(['client', 'delete', client.client_id])).deleted, true);
  assert.equal((await json(['flow', 'delete', 'plain'])).deleted, true);
  await fails(['flow', 'delete', 'plain'], 2, /no such flow: plain/);
});

test('OAuth client settings and registration tokens: PAR, DPoP and JAR flags; tokens shown once, listed, revoked', async () => {
  const e = { ...env(), TESSERA_REGISTRATION_POLICIES: JSON.stringify({ partners: { redirectUriHosts: ['app.example'] } }) };
  const created = await runCli(['client', 'create', '--name', 'Strict', '--redirect-uri', 'https://app.example/cb', '--require-par', '--dpop-bound', '--require-signed-request-object', '--json'], e);
  assert.equal(created.code, 0, created.stderr);
  const { client_id, metadata } = JSON.parse(created.stdout);
  assert.equal(metadata.require_pushed_authorization_requests, true);
  assert.equal(metadata.dpop_bound_access_tokens, true);
  assert.equal(metadata.require_signed_request_object, true);
  const jwksFile = join(e.DATA_DIR, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'k2' }] }));
  const updated = await runCli(['client', 'update', client_id, '--require-par', 'false', '--dpop-bound', 'false', '--jwks-file', jwksFile, '--json'], e);
  assert.equal(updated.code, 0, updated.stderr);
  assert.equal(JSON.parse(updated.stdout).metadata.require_pushed_authorization_requests, false);
  assert.equal(JSON.parse(updated.stdout).metadata.jwks.keys[0].kid, 'k2');
  assert.match((await runCli(['client', 'update', client_id, '--dpop-bound', 'maybe'], e)).stderr, /--dpop-bound must be true or false/);

  const unknown = await runCli(['client', 'registration-token', 'create', '--policy', 'nobody'], e);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /unknown registration policy: nobody \(configured: partners\)/);
  const token = await runCli(['client', 'registration-token', 'create', '--policy', 'partners', '--description', 'Acme', '--json'], e);
  assert.equal(token.code, 0, token.stderr);
  const { id, value } = JSON.parse(token.stdout);
  assert.match(value, /^[A-Za-z0-9_-]{43}$/);
  const list = await runCli(['client', 'registration-token', 'list', '--json'], e);
  assert.deepEqual(JSON.parse(list.stdout).map((t: { id: string }) => t.id), [id]);
  assert.ok(!list.stdout.includes(value), 'the value is never listed');
  assert.equal((await runCli(['client', 'registration-token', 'revoke', id], e)).code, 0);
  assert.ok(JSON.parse((await runCli(['client', 'registration-token', 'list', '--json'], e)).stdout)[0].revokedAt);
});

test("a user's passkeys: listed and removed one at a time", async () => {
  const e = env();
  // Passkeys are registered by a browser; here they are stored directly, as the step would.
  const services = await openServices(loadConfig(e), createLogger('silent'));
  const account = await services.accounts.create({ username: 'pat' });
  const passkeys = new PasskeyCredentials(services.db);
  const key = (n: number) => ({ accountId: account.id, credentialId: `cred-${n}`, publicKey: new Uint8Array([n]), signCount: 0, transports: [], aaguid: '00000000-0000-0000-0000-000000000000', name: `Key ${n}`, deviceType: 'multiDevice' as const, backedUp: true });
  const first = (await passkeys.add(key(1)))!;
  await passkeys.add(key(2));
  await services.close();
  const listed = await runCli(['user', 'credentials', 'pat', 'passkey', '--json'], e);
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(JSON.parse(listed.stdout).map((c: { name: string; kind: string }) => [c.name, c.kind]), [['Key 1', 'synced passkey'], ['Key 2', 'synced passkey']]);
  assert.equal((await runCli(['user', 'remove-credential', 'pat', 'passkey', first], e)).code, 0);
  const again = await runCli(['user', 'remove-credential', 'pat', 'passkey', first], e);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /no such passkey credential/);
});

test('device clients: --grant-type device_code needs the device flow on; update replaces the grant types', async () => {
  const e = env();
  const off = await runCli(['client', 'create', '--name', 'TV', '--auth-method', 'none', '--grant-type', 'device_code'], e);
  assert.equal(off.code, 2);
  assert.match(off.stderr, /TESSERA_DEVICE_FLOW=true/);
  const on = { ...e, TESSERA_DEVICE_FLOW: 'true' };
  const created = await runCli(['client', 'create', '--name', 'TV', '--auth-method', 'none', '--grant-type', 'device_code', '--json'], on);
  assert.equal(created.code, 0, created.stderr);
  const { client_id, metadata } = JSON.parse(created.stdout);
  assert.deepEqual(metadata.grant_types, ['urn:ietf:params:oauth:grant-type:device_code']);
  const updated = await runCli(['client', 'update', client_id, '--grant-type', 'device_code', '--grant-type', 'refresh_token', '--json'], on);
  assert.equal(updated.code, 0, updated.stderr);
  assert.deepEqual(JSON.parse(updated.stdout).metadata.grant_types, ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token']);
  const publicMachine = await runCli(['client', 'update', client_id, '--grant-type', 'client_credentials'], on);
  assert.equal(publicMachine.code, 1);
  assert.match(publicMachine.stderr, /public client/);
});
