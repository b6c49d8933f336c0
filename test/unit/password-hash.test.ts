import assert from 'node:assert/strict';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import bcrypt from 'bcryptjs';
import { hashPassword, PasswordHashError, schemeOf, verifyPassword } from '../../src/accounts/password-hash.js';

test('new hashes are argon2id with at least the OWASP parameters', async () => {
  const hash = await hashPassword('s3cret-passw0rd');
  assert.match(hash, /^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
  assert.deepEqual(await verifyPassword(hash, 's3cret-passw0rd'), { ok: true, rehash: false });
  assert.deepEqual(await verifyPassword(hash, 'wrong'), { ok: false, rehash: false });
});

test('bcrypt imports verify and ask to be re-hashed', async () => {
  const hash = bcrypt.hashSync('legacy-pass', 4);
  assert.equal(schemeOf(hash), 'bcrypt');
  assert.deepEqual(await verifyPassword(hash, 'legacy-pass'), { ok: true, rehash: true });
  assert.deepEqual(await verifyPassword(hash, 'nope'), { ok: false, rehash: false });
});

test('PBKDF2 imports in passlib and Django formats verify', async () => {
  const salt = randomBytes(16);
  const dk = pbkdf2Sync('legacy-pass', salt, 1000, 32, 'sha256');
  const ab64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '').replace(/\+/g, '.');
  const passlib = `$pbkdf2-sha256$1000$${ab64(salt)}$${ab64(dk)}`;
  assert.deepEqual(await verifyPassword(passlib, 'legacy-pass'), { ok: true, rehash: true });
  assert.equal((await verifyPassword(passlib, 'nope')).ok, false);
  const djangoSalt = 'abcdefgh12345678';
  const django = `pbkdf2_sha256$1000$${djangoSalt}$${pbkdf2Sync('legacy-pass', djangoSalt, 1000, 32, 'sha256').toString('base64')}`;
  assert.deepEqual(await verifyPassword(django, 'legacy-pass'), { ok: true, rehash: true });
});

test('weaker argon2id parameters are upgraded on the next login', async () => {
  const argon2 = (await import('argon2')).default;
  const weak = await argon2.hash('pw-pw-pw-pw', { type: argon2.argon2id, memoryCost: 4096, timeCost: 1, parallelism: 1 });
  assert.deepEqual(await verifyPassword(weak, 'pw-pw-pw-pw'), { ok: true, rehash: true });
});

test('unknown formats are refused clearly', () => {
  assert.throws(() => schemeOf('md5$abc'), PasswordHashError);
  assert.throws(() => schemeOf('$2b$10$short'), /unsupported password hash format/);
});
