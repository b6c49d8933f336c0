import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { SealedBox, SealedBoxError } from '../../src/security/sealed-box.js';

test('seals and opens; ciphertext differs each time', () => {
  const box = new SealedBox(randomBytes(32), 'signing-key');
  const a = box.seal('private jwk', 'kid-1');
  assert.notEqual(a, box.seal('private jwk', 'kid-1'));
  assert.equal(box.open(a, 'kid-1').toString(), 'private jwk');
});

test('refuses a wrong key, another purpose, another context or tampering', () => {
  const key = randomBytes(32);
  const sealed = new SealedBox(key, 'signing-key').seal('secret', 'kid-1');
  assert.throws(() => new SealedBox(randomBytes(32), 'signing-key').open(sealed, 'kid-1'), SealedBoxError);
  assert.throws(() => new SealedBox(key, 'client-secret').open(sealed, 'kid-1'), SealedBoxError);
  assert.throws(() => new SealedBox(key, 'signing-key').open(sealed, 'kid-2'), SealedBoxError);
  const parts = sealed.split('.');
  parts[2] = Buffer.from('tampered').toString('base64url');
  assert.throws(() => new SealedBox(key, 'signing-key').open(parts.join('.'), 'kid-1'), /wrong master key or tampered/);
  assert.throws(() => new SealedBox(key, 'signing-key').open('garbage'), /not a sealed value/);
});
