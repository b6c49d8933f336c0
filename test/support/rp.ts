import * as oidc from 'openid-client';
import { Browser, type Page } from './browser.js';

export interface RpClient {
  config: oidc.Configuration;
  redirectUri: string;
}

/** A relying party built with openid-client against the test issuer (plain HTTP on loopback). */
export async function discoverRp(
  issuer: string,
  clientId: string,
  auth: { secret?: string; method?: oidc.ClientAuth },
  redirectUri = 'http://127.0.0.1:9/callback',
): Promise<RpClient> {
  const method = auth.method ?? (auth.secret ? oidc.ClientSecretBasic(auth.secret) : oidc.None());
  const config = await oidc.discovery(new URL(issuer), clientId, auth.secret, method, { execute: [oidc.allowInsecureRequests] });
  return { config, redirectUri };
}

export interface LoginResult {
  tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
  browser: Browser;
  callback: URL;
  verifier: string;
}

/** Runs authorize → login form (→ consent) → callback → token exchange, checking state, nonce and PKCE. */
export async function loginWithPassword(
  rp: RpClient,
  issuer: string,
  creds: { username: string; password: string },
  opts: { scope?: string; browser?: Browser; extra?: Record<string, string>; consent?: boolean } = {},
): Promise<LoginResult> {
  const browser = opts.browser ?? new Browser(issuer);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(rp.config, {
    redirect_uri: rp.redirectUri,
    scope: opts.scope ?? 'openid profile email',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...opts.extra,
  });
  let page: Page = await browser.request(url.href);
  if (!page.leftTo) {
    if (page.status !== 200 || !page.html.includes('name="password"')) throw new Error(`expected the login page, got ${page.status}: ${page.html.slice(0, 300)}`);
    page = await browser.submit(page, '/step/password', creds);
  }
  if (!page.leftTo && page.html.includes('/consent')) {
    if (opts.consent === false) throw new Error('unexpected consent page');
    page = await browser.submit(page, '/consent');
  }
  if (!page.leftTo) throw new Error(`login did not return to the RP (${page.status}): ${page.html.slice(0, 400)}`);
  const callback = new URL(page.leftTo);
  const tokens = await oidc.authorizationCodeGrant(rp.config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  return { tokens, browser, callback, verifier };
}
