import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import type { Browser, Page } from './browser.js';
import type { RpClient } from './rp.js';

/** The parameters of an authorization request (PKCE S256, state "st"), with its verifier. */
async function authorizationParams(rp: RpClient, extra: Record<string, string>) {
  const verifier = oidc.randomPKCECodeVerifier();
  const params = {
    redirect_uri: rp.redirectUri,
    scope: 'openid',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: 'st',
    ...extra,
  };
  return { verifier, params };
}

/** An authorization request (PKCE S256, state "st") for any browser to open, with its verifier. */
export async function authorizationUrl(rp: RpClient, extra: Record<string, string> = {}) {
  const { verifier, params } = await authorizationParams(rp, extra);
  return { verifier, url: oidc.buildAuthorizationUrl(rp.config, params) };
}

/** The same request pushed to the PAR endpoint (RFC 9126) by the RP: the URL carries only client_id and request_uri. */
export async function pushedAuthorizationUrl(rp: RpClient, extra: Record<string, string> = {}, options?: oidc.DPoPOptions) {
  const { verifier, params } = await authorizationParams(rp, extra);
  return { verifier, url: await oidc.buildAuthorizationUrlWithPAR(rp.config, params, options) };
}

/** Sends the browser to the authorization endpoint (PKCE, state "st"); returns where it stops. */
export async function authorize(rp: RpClient, browser: Browser, extra: Record<string, string> = {}) {
  const { verifier, url } = await authorizationUrl(rp, extra);
  return { verifier, page: await browser.request(url.href) };
}

/** Exchanges the code the browser came back with. */
export async function tokensFrom(rp: RpClient, page: Page, verifier: string) {
  assert.ok(page.leftTo, `expected a redirect to the RP, got ${page.status}: ${page.html.slice(0, 300)}`);
  return oidc.authorizationCodeGrant(rp.config, new URL(page.leftTo), { pkceCodeVerifier: verifier, expectedState: 'st' });
}

/** The error message shown on a page, if any. */
export const alertOf = (page: Page) => /<p class="alert"[^>]*>([^<]*)</.exec(page.html)?.[1];

/** The one-time capture code a step's page shows for a device to deliver its input with. */
export const captureCodeOn = (page: Page) => /<code id="capture-code"[^>]*>([^<]+)</.exec(page.html)?.[1];
