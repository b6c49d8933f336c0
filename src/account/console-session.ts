import type { Context } from 'koa';
import type { SealedBox } from '../security/sealed-box.js';
import { ACCOUNT_PREFIX } from './account-client.js';

/** Who is signed in to the console, as the provider's authorization code said. */
export interface ConsoleSession {
  accountId: string;
  // Epoch seconds of the sign-in (the provider session's auth_time).
  authTime: number;
  amr: string[];
  acr?: string;
  // The provider session (its uid) this console session rides on.
  sessionUid: string;
}

/** A console sign-in under way: what the callback must check and where to go back to. */
export interface PendingSignIn {
  state: string;
  verifier: string;
  returnTo: string;
  // Set for a re-authentication: the new auth_time must not be older than this (epoch seconds).
  freshSince?: number;
}

const SESSION_COOKIE = 'tessera.account';
const PENDING_COOKIE = 'tessera.account.login';
// Short on purpose: once it lapses, the provider session signs the console in again silently.
const SESSION_SECONDS = 3600;
const PENDING_SECONDS = 600;

/**
 * The console's own cookies, sealed (AES-GCM, purpose-bound key): the browser can neither read
 * nor forge them, and each carries its own expiry so an old copy is worthless.
 */
export class ConsoleCookies {
  constructor(private readonly box: SealedBox) {}

  private write(ctx: Context, name: string, value: unknown, seconds: number) {
    const sealed = this.box.seal(JSON.stringify({ value, exp: Date.now() + seconds * 1000 }), name);
    ctx.cookies.set(name, sealed, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, path: ACCOUNT_PREFIX, maxAge: seconds * 1000, overwrite: true });
  }

  private read<T>(ctx: Context, name: string): T | undefined {
    const sealed = ctx.cookies.get(name);
    if (!sealed) return undefined;
    try {
      const { value, exp } = JSON.parse(this.box.open(sealed, name).toString('utf8')) as { value: T; exp: number };
      return exp > Date.now() ? value : undefined;
    } catch {
      return undefined;
    }
  }

  private clear(ctx: Context, name: string) {
    ctx.cookies.set(name, null, { path: ACCOUNT_PREFIX, overwrite: true });
  }

  session(ctx: Context): ConsoleSession | undefined {
    return this.read<ConsoleSession>(ctx, SESSION_COOKIE);
  }

  startSession(ctx: Context, session: ConsoleSession): void {
    this.write(ctx, SESSION_COOKIE, session, SESSION_SECONDS);
  }

  endSession(ctx: Context): void {
    this.clear(ctx, SESSION_COOKIE);
  }

  pending(ctx: Context): PendingSignIn | undefined {
    return this.read<PendingSignIn>(ctx, PENDING_COOKIE);
  }

  startPending(ctx: Context, pending: PendingSignIn): void {
    this.write(ctx, PENDING_COOKIE, pending, PENDING_SECONDS);
  }

  endPending(ctx: Context): void {
    this.clear(ctx, PENDING_COOKIE);
  }
}
