import type { Context } from 'koa';

// For Tessera's own pages: no framing (clickjacking on the login form), no inline script,
// nothing loaded from elsewhere. form-action is left open on purpose: a login form's
// response redirects to the relying party, which browsers check against form-action.
const CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; connect-src 'self'; media-src 'self' blob:; base-uri 'none'; frame-ancestors 'none'";

export function pageSecurityHeaders(ctx: Context): void {
  ctx.set('Content-Security-Policy', CSP);
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('Cache-Control', 'no-store');
}

/** Headers safe for every response, the provider's included. */
export function baseSecurityHeaders(ctx: Context): void {
  ctx.set('X-Content-Type-Options', 'nosniff');
  if (ctx.secure) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
}
