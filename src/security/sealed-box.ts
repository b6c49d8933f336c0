import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';

/**
 * AES-256-GCM with a purpose-bound subkey: each kind of secret (signing keys, client
 * secrets, biometric templates) gets its own key derived from the master key, and the
 * purpose is also bound as associated data so a sealed value cannot be moved between kinds.
 */
export class SealedBox {
  private readonly key: Buffer;

  constructor(
    masterKey: Buffer,
    readonly purpose: string,
  ) {
    this.key = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), `tessera:${purpose}`, 32));
  }

  seal(plain: Buffer | string, context = ''): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(`${this.purpose}|${context}`));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return [VERSION, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  open(sealed: string, context = ''): Buffer {
    const [version, iv, body, tag] = sealed.split('.');
    if (version !== VERSION || !iv || !body || !tag) throw new SealedBoxError('not a sealed value');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(`${this.purpose}|${context}`));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      const plain = decipher.update(Buffer.from(body, 'base64url'));
      // GCM is a stream mode: final() checks the tag and adds no bytes (so no copy into a concatenation).
      decipher.final();
      return plain;
    } catch {
      throw new SealedBoxError('cannot decrypt: wrong master key or tampered data');
    }
  }
}

export class SealedBoxError extends Error {
  override name = 'SealedBoxError';
}

/** Derives a stable 32-byte key (e.g. the DPoP nonce secret) shared by every process with the same master key. */
export function deriveKey(masterKey: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), `tessera:${purpose}`, 32));
}

/** Derives stable secrets (cookie signing keys) shared by every process with the same master key. */
export function deriveSecret(masterKey: Buffer, purpose: string): string {
  return deriveKey(masterKey, purpose).toString('base64url');
}
