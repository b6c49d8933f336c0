import { pbkdf2, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import argon2 from 'argon2';
import bcrypt from 'bcryptjs';

const pbkdf2Async = promisify(pbkdf2);

// OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
export const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export type HashScheme = 'argon2id' | 'bcrypt' | 'pbkdf2';

export class PasswordHashError extends Error {
  override name = 'PasswordHashError';
}

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, ARGON2_OPTIONS);
}

/**
 * Recognises the hash formats Tessera can import:
 * argon2id PHC strings; bcrypt ($2a$/$2b$/$2y$); PBKDF2 in the passlib/PHC form
 * `$pbkdf2-sha256$<iterations>$<salt>$<hash>` (adapted base64) and Django's
 * `pbkdf2_sha256$<iterations>$<salt>$<hash>` (salt as text, hash standard base64).
 */
export function schemeOf(hash: string): HashScheme {
  if (hash.startsWith('$argon2id$')) return 'argon2id';
  if (/^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/.test(hash)) return 'bcrypt';
  if (/^\$pbkdf2-sha(1|256|512)\$\d+\$[./A-Za-z0-9+]*\$[./A-Za-z0-9+]+$/.test(hash)) return 'pbkdf2';
  if (/^pbkdf2_sha(1|256|512)\$\d+\$[^$]+\$[A-Za-z0-9+/=]+$/.test(hash)) return 'pbkdf2';
  throw new PasswordHashError('unsupported password hash format (expected argon2id, bcrypt or PBKDF2)');
}

// passlib's "adapted base64" uses '.' for '+' and omits padding.
const adaptedB64 = (s: string) => Buffer.from(s.replace(/\./g, '+'), 'base64');

async function verifyPbkdf2(hash: string, password: string): Promise<boolean> {
  let digest: string;
  let iterations: number;
  let salt: Buffer;
  let expected: Buffer;
  if (hash.startsWith('$')) {
    const [, id = '', iter = '', s = '', h = ''] = hash.split('$');
    digest = id.replace('pbkdf2-', '');
    iterations = Number(iter);
    salt = adaptedB64(s);
    expected = adaptedB64(h);
  } else {
    const [id = '', iter = '', s = '', h = ''] = hash.split('$');
    digest = id.replace('pbkdf2_', '');
    iterations = Number(iter);
    salt = Buffer.from(s, 'utf8');
    expected = Buffer.from(h, 'base64');
  }
  if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > 10_000_000 || expected.length === 0) return false;
  const actual = await pbkdf2Async(password, salt, iterations, expected.length, digest);
  return timingSafeEqual(actual, expected);
}

/** Verifies against any supported scheme; `rehash` says the stored hash should be upgraded. */
export async function verifyPassword(hash: string, password: string): Promise<{ ok: boolean; rehash: boolean }> {
  const scheme = schemeOf(hash);
  if (scheme === 'argon2id') {
    const ok = await argon2.verify(hash, password);
    return { ok, rehash: ok && argon2.needsRehash(hash, ARGON2_OPTIONS) };
  }
  const ok = scheme === 'bcrypt' ? await bcrypt.compare(password, hash) : await verifyPbkdf2(hash, password);
  return { ok, rehash: ok };
}
