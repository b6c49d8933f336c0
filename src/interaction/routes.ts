import Router from '@koa/router';
import type { Context } from 'koa';
import type { ClientMetadata } from 'oidc-provider';
import type { AccountService } from '../accounts/accounts.js';
import type { Views } from '../http/views.js';
import { readForm } from '../http/form-body.js';
import type { ProviderHost } from '../oidc/provider-host.js';
import { ACR_PASSWORD } from '../oidc/provider-config.js';
import type { Csrf } from '../security/csrf.js';
import { PASSWORD_AMR, type PasswordStep } from '../steps/password/password-step.js';

export interface InteractionDeps {
  host: ProviderHost;
  views: Views;
  csrf: Csrf;
  password: PasswordStep;
  accounts: AccountService;
}

const SCOPE_TEXT: Record<string, string> = {
  openid: 'Sign you in with your Tessera account',
  profile: 'See your name and username',
  email: 'See your email address',
  offline_access: 'Keep access while you are away (refresh tokens)',
};

const minutes = (s: number) => Math.max(1, Math.ceil(s / 60));

const FAILURE_TEXT = {
  invalid: 'The username or password is incorrect.',
  disabled: 'This account is disabled. Contact your administrator.',
};

export function interactionRouter(deps: InteractionDeps): Router {
  const { host, views, csrf, password, accounts } = deps;
  const router = new Router({ prefix: '/interaction' });

  // Loads the interaction bound to this browser's cookie and checks it is the one in the URL.
  async function interactionOf(ctx: Context) {
    const details = await host.current.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== ctx.params.uid) ctx.throw(400, 'This sign-in page is out of date. Return to the application and start again.');
    const clientId = String(details.params.client_id);
    const client = await host.current.Client.find(clientId);
    const clientName = (client?.metadata() as ClientMetadata | undefined)?.client_name ?? clientId;
    return { details, clientName };
  }

  async function postedForm(ctx: Context) {
    const form = await readForm(ctx);
    if (!csrf.valid(ctx, String(ctx.params.uid), form.csrf)) {
      ctx.throw(403, 'This form has expired or was not sent by this site. Go back, reload the page and try again.');
    }
    return form;
  }

  async function finish(ctx: Context, result: Parameters<typeof host.current.interactionResult>[2], merge = true) {
    const returnTo = await host.current.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: merge });
    ctx.status = 303;
    ctx.redirect(returnTo);
  }

  function renderLogin(ctx: Context, data: { clientName: string; username?: string; error?: string }, status = 200) {
    const uid = String(ctx.params.uid);
    views.render(ctx, 'login', { title: 'Sign in', uid, csrf: csrf.token(ctx, uid), client: data.clientName, ...data }, status);
  }

  router.get('/:uid', async (ctx) => {
    const { details, clientName } = await interactionOf(ctx);
    const uid = String(ctx.params.uid);
    if (details.prompt.name === 'login') {
      const hint = typeof details.params.login_hint === 'string' ? details.params.login_hint : undefined;
      return renderLogin(ctx, { clientName, username: hint });
    }
    if (details.prompt.name === 'consent') {
      const missing = details.prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
      const account = await accounts.findById(String(details.session?.accountId));
      return views.render(ctx, 'consent', {
        title: 'Allow access',
        uid,
        csrf: csrf.token(ctx, uid),
        client: clientName,
        account: account?.username,
        scopes: (missing.missingOIDCScope ?? []).map((s) => SCOPE_TEXT[s] ?? s),
        resources: Object.entries(missing.missingResourceScopes ?? {}).map(([indicator, scopes]) => ({ indicator, scopes: scopes.join(' ') })),
      });
    }
    ctx.throw(400, `unsupported interaction prompt ${details.prompt.name}`);
  });

  router.post('/:uid/login', async (ctx) => {
    const form = await postedForm(ctx);
    const { details, clientName } = await interactionOf(ctx);
    if (details.prompt.name !== 'login') ctx.throw(400, 'This sign-in step is already complete.');
    const username = (form.username ?? '').trim();
    if (!username || !form.password) {
      return renderLogin(ctx, { clientName, username, error: 'Enter your username and password.' }, 400);
    }
    const result = await password.verify(username, form.password, {
      ip: ctx.ip,
      userAgent: ctx.get('user-agent'),
      clientId: String(details.params.client_id),
    });
    if (!result.ok) {
      if (result.reason === 'locked') {
        ctx.set('Retry-After', String(result.retryAfterSeconds));
        const error = `Too many failed sign-in attempts. Try again in ${minutes(result.retryAfterSeconds)} minute(s).`;
        return renderLogin(ctx, { clientName, username, error }, 429);
      }
      return renderLogin(ctx, { clientName, username, error: FAILURE_TEXT[result.reason] }, result.reason === 'disabled' ? 403 : 401);
    }
    await finish(ctx, { login: { accountId: result.account.id, acr: ACR_PASSWORD, amr: [PASSWORD_AMR], remember: true } }, false);
  });

  router.post('/:uid/consent', async (ctx) => {
    await postedForm(ctx);
    const { details } = await interactionOf(ctx);
    if (details.prompt.name !== 'consent') ctx.throw(400, 'There is nothing to consent to.');
    const provider = host.current;
    const missing = details.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: String(details.session?.accountId), clientId: String(details.params.client_id) });
    if (!grant) return ctx.throw(400, 'This authorisation is no longer valid. Return to the application and start again.');
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    await finish(ctx, { consent: { grantId } });
  });

  router.post('/:uid/abort', async (ctx) => {
    await postedForm(ctx);
    await interactionOf(ctx);
    await finish(ctx, { error: 'access_denied', error_description: 'The user cancelled the sign-in.' }, false);
  });

  return router;
}
