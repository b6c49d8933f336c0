import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Storage } from '../oidc/adapter.js';
import type { ProviderHost } from '../oidc/provider-host.js';
import type { StepRegistry } from '../steps/registry.js';
import { ACCOUNT_CLIENT_ID } from './account-client.js';
import type { AccountConsole } from './console.js';
import type { ConsoleCookies } from './console-session.js';
import type { ContinuousClaim } from '../continuous/session-monitor.js';

const PAGE = '/account/sessions';
const CLIENT_ID = /^[A-Za-z0-9._~-]{1,128}$/;

/** A moment as the console shows it (UTC, to the minute). */
export const when = (epochSeconds: number | undefined) =>
  epochSeconds === undefined ? 'unknown' : `${new Date(epochSeconds * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/**
 * The account's provider sessions (signed-in browsers) and the applications it has granted
 * access, each revocable. Sessions are named by their uid, never by their id (the cookie value).
 */
export function sessionRoutes(
  router: Router,
  kit: AccountConsole,
  deps: { host: ProviderHost; storage: Storage; cookies: ConsoleCookies; steps: StepRegistry; continuousClaim(sessionUid: string): Promise<ContinuousClaim | undefined> },
): void {
  const { host, storage, cookies, steps, continuousClaim } = deps;

  async function clientName(clientId: string) {
    if (clientId === ACCOUNT_CLIENT_ID) return 'Account console';
    const client = await host.current.Client.find(clientId).catch(() => undefined);
    return client?.clientName ?? `${clientId} (removed application)`;
  }

  const sessionsOf = (ctx: Context) => storage.findByAccount('Session', kit.current(ctx).account.id);
  const grantsOf = (ctx: Context) => storage.findByAccount('Grant', kit.current(ctx).account.id);

  router.get('/sessions', kit.signedIn, async (ctx) => {
    const { session: current } = kit.current(ctx);
    const sessions = await Promise.all(
      (await sessionsOf(ctx))
        .sort((a, b) => Number(b.loginTs ?? 0) - Number(a.loginTs ?? 0))
        .map(async (s) => ({
          uid: s.uid,
          current: s.uid === current.sessionUid,
          signedIn: when(s.loginTs as number | undefined),
          expires: when(s.exp),
          methods: steps.methodNames((s.amr as string[] | undefined) ?? []) || 'unknown',
          apps: (await Promise.all(Object.keys(s.authorizations ?? {}).map(clientName))).join(', ') || 'none',
          continuous: typeof s.uid === 'string' ? await continuousClaim(s.uid) : undefined,
        })),
    );
    // One entry per application, however many sessions granted it.
    const byClient = new Map<string, { scopes: Set<string>; since: number }>();
    for (const grant of await grantsOf(ctx)) {
      const clientId = String(grant.clientId);
      if (clientId === ACCOUNT_CLIENT_ID) continue;
      const entry = byClient.get(clientId) ?? { scopes: new Set<string>(), since: Number(grant.iat) };
      for (const scope of String((grant.openid as { scope?: string } | undefined)?.scope ?? '').split(' ').filter(Boolean)) entry.scopes.add(scope);
      entry.since = Math.min(entry.since, Number(grant.iat));
      byClient.set(clientId, entry);
    }
    const clients = await Promise.all(
      [...byClient].map(async ([clientId, e]) => ({ clientId, name: await clientName(clientId), scopes: [...e.scopes].join(' '), since: when(e.since) })),
    );
    kit.render(ctx, 'account-sessions', { title: 'Sessions and applications', sessions, clients });
  });

  // The sessions page asks this every few seconds for each session a headset keeps verified.
  router.get('/sessions/:uid/continuous', kit.signedIn, async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const own = (await sessionsOf(ctx)).some((s) => s.uid === ctx.params.uid);
    const claim = own ? await continuousClaim(String(ctx.params.uid)) : undefined;
    ctx.body = claim ?? { state: 'ended' };
  });

  router.post('/sessions/:uid/revoke', kit.signedIn, async (ctx) => {
    await kit.form(ctx);
    if (!kit.fresh(ctx, PAGE)) return;
    const target = (await sessionsOf(ctx)).find((s) => s.uid === ctx.params.uid);
    if (!target) return ctx.throw(404, 'That session has already ended.');
    // The browser is signed out, and the applications it signed in to lose the tokens they got.
    await storage.endSession(target);
    await host.announceEnded([target]);
    const wasCurrent = target.uid === kit.current(ctx).session.sessionUid;
    await kit.record(ctx, { type: 'account.session_revoked', outcome: 'success', details: { current: wasCurrent, clients: Object.keys(target.authorizations ?? {}) } });
    if (wasCurrent) {
      cookies.endSession(ctx);
      ctx.status = 303;
      return ctx.redirect('/account');
    }
    kit.done(ctx, PAGE, 'session');
  });

  router.post('/clients/:clientId/revoke', kit.signedIn, async (ctx) => {
    await kit.form(ctx);
    const clientId = String(ctx.params.clientId);
    if (!CLIENT_ID.test(clientId) || clientId === ACCOUNT_CLIENT_ID) return ctx.throw(404, 'There is no such application.');
    if (!kit.fresh(ctx, PAGE)) return;
    const grants = (await grantsOf(ctx)).filter((g) => g.clientId === clientId);
    if (!grants.length) return ctx.throw(404, 'That application has no access to revoke.');
    // Destroys the grants with every code, access and refresh token issued under them.
    await Promise.all(grants.map((g) => storage.revokeGrant(String(g.jti))));
    await kit.record(ctx, { type: 'account.client_revoked', outcome: 'success', details: { client_id: clientId, grants: grants.length } });
    kit.done(ctx, PAGE, 'client');
  });
}
