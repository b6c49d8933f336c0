import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import type { ProviderHost } from '../oidc/provider-host.js';
import { ACCOUNT_CLIENT_ID, ACCOUNT_PREFIX, accountCallbackUrl } from './account-client.js';
import type { ConsoleCookies, ConsoleSession } from './console-session.js';

const nowSeconds = () => Math.floor(Date.now() / 1000);
const random = () => randomBytes(32).toString('base64url');
const ERROR_CODE = /^[a-z_]{1,64}$/;
// oidc-provider's opaque values (base64url); anything else is refused before a store lookup.
const CODE = /^[A-Za-z0-9_-]{1,256}$/;

const sameString = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** Only console paths are followed after sign-in (no open redirect). */
export function consolePath(path: unknown): string {
  return typeof path === 'string' && /^\/account(?:[/?][^\s\\]*)?$/.test(path) && !path.includes('//') ? path : ACCOUNT_PREFIX;
}

/**
 * The console as an OIDC client of its own provider: authorization code + PKCE through `/auth`,
 * so single sign-on, flows, step-up and lockouts all apply. Being part of the provider, it
 * redeems its code in-process (no secret, no network hop): checked for client, redirect URI,
 * issuer, state and PKCE, then consumed exactly once.
 */
export class ConsoleSignIn {
  private readonly callbackUrl: string;

  constructor(
    private readonly host: ProviderHost,
    private readonly issuer: string,
    private readonly cookies: ConsoleCookies,
  ) {
    this.callbackUrl = accountCallbackUrl(issuer);
  }

  /** Sends the browser to sign in; `fresh` demands a new authentication even with a session. */
  start(ctx: Context, returnTo: string, fresh = false): void {
    const verifier = random();
    const state = random();
    this.cookies.startPending(ctx, { state, verifier, returnTo: consolePath(returnTo), freshSince: fresh ? nowSeconds() : undefined });
    const params = new URLSearchParams({
      client_id: ACCOUNT_CLIENT_ID,
      response_type: 'code',
      redirect_uri: this.callbackUrl,
      scope: 'openid',
      state,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    });
    if (fresh) {
      params.set('prompt', 'login');
      // A password alone must not be enough to change the other factors.
      params.set('tessera_reauth', 'second_factor');
    }
    ctx.status = 303;
    ctx.redirect(`/auth?${params}`);
  }

  /** Handles the authorization response; returns the new console session and where to go. */
  async finish(ctx: Context): Promise<{ session: ConsoleSession; returnTo: string }> {
    const pending = this.cookies.pending(ctx);
    this.cookies.endPending(ctx);
    const { state, code, iss, error } = ctx.query;
    const again = 'Open your account page again to sign in.';
    if (!pending || typeof state !== 'string' || !sameString(state, pending.state)) ctx.throw(400, `This sign-in has expired or was started in another window. ${again}`);
    if (typeof error === 'string') {
      ctx.throw(error === 'access_denied' ? 403 : 400, `The sign-in did not complete (${ERROR_CODE.test(error) ? error : 'error'}). ${again}`);
    }
    if (iss !== this.issuer || typeof code !== 'string' || !CODE.test(code)) ctx.throw(400, `The sign-in response is not valid. ${again}`);
    const grant = await this.host.current.AuthorizationCode.find(code);
    const challenge = createHash('sha256').update(pending.verifier).digest('base64url');
    const valid =
      grant &&
      grant.isValid &&
      grant.clientId === ACCOUNT_CLIENT_ID &&
      grant.redirectUri === this.callbackUrl &&
      grant.codeChallengeMethod === 'S256' &&
      sameString(grant.codeChallenge ?? '', challenge) &&
      grant.accountId &&
      grant.sessionUid &&
      grant.authTime !== undefined;
    if (!valid) ctx.throw(400, `The sign-in response is not valid. ${again}`);
    try {
      await grant.consume();
    } catch {
      ctx.throw(400, `This sign-in response was already used. ${again}`);
    }
    if (pending.freshSince !== undefined && grant.authTime! < pending.freshSince) ctx.throw(400, `You need to sign in again to continue. ${again}`);
    return {
      session: { accountId: grant.accountId!, authTime: grant.authTime!, amr: grant.amr ?? [], acr: grant.acr, sessionUid: grant.sessionUid! },
      returnTo: pending.returnTo,
    };
  }
}
