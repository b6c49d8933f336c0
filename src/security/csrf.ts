import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';

const COOKIE = 'tessera.csrf';

/**
 * Synchroniser tokens for Tessera's forms: a random per-browser cookie plus a form field
 * that is an HMAC of that cookie and the form's binding (e.g. the interaction uid).
 * A cross-site page can neither read the cookie nor compute the field.
 */
export class Csrf {
  constructor(private readonly key: string) {}

  private mac(secret: string, binding: string): Buffer {
    return createHmac('sha256', this.key).update(`${secret}|${binding}`).digest();
  }

  private secret(ctx: Context): string {
    let secret = ctx.cookies.get(COOKIE);
    if (!secret || !/^[A-Za-z0-9_-]{43}$/.test(secret)) {
      secret = randomBytes(32).toString('base64url');
      ctx.cookies.set(COOKIE, secret, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, path: '/', overwrite: true });
    }
    return secret;
  }

  token(ctx: Context, binding: string): string {
    return this.mac(this.secret(ctx), binding).toString('base64url');
  }

  valid(ctx: Context, binding: string, token: unknown): boolean {
    const secret = ctx.cookies.get(COOKIE);
    if (!secret || typeof token !== 'string') return false;
    const given = Buffer.from(token, 'base64url');
    const expected = this.mac(secret, binding);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
