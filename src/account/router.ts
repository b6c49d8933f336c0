import Router from '@koa/router';
import type { Config } from '../../config/schema.js';
import type { AccountService } from '../accounts/accounts.js';
import type { PasswordPolicy } from '../accounts/password-policy.js';
import type { Views } from '../http/views.js';
import type { CapturePage } from '../interaction/capture-page.js';
import type { Storage } from '../oidc/adapter.js';
import type { ProviderHost } from '../oidc/provider-host.js';
import type { AuditLog } from '../security/audit-log.js';
import type { CredentialThrottle } from '../security/credential-throttle.js';
import type { Csrf } from '../security/csrf.js';
import type { RefusedSubmissions } from '../security/refused-submissions.js';
import type { SealedBox } from '../security/sealed-box.js';
import type { StepRegistry } from '../steps/registry.js';
import { ACCOUNT_CLIENT_ID, ACCOUNT_PREFIX } from './account-client.js';
import { activityRoutes } from './activity-export.js';
import { AccountConsole } from './console.js';
import { ConsoleCookies } from './console-session.js';
import { factorRoutes } from './factors.js';
import { passwordRoutes } from './password.js';
import { profileRoutes } from './profile.js';
import type { ContinuousClaim } from '../continuous/session-monitor.js';
import { sessionRoutes } from './sessions.js';
import { ConsoleSignIn } from './sign-in.js';

export interface AccountConsoleDeps {
  config: Config;
  host: ProviderHost;
  views: Views;
  csrf: Csrf;
  accounts: AccountService;
  steps: StepRegistry;
  audit: AuditLog;
  // Reads set-up submissions, auditing what is refused before the step sees it.
  refusals: RefusedSubmissions;
  storage: Storage;
  throttle: CredentialThrottle;
  passwordPolicy: PasswordPolicy;
  // Seals the console's cookies (its own purpose-bound key).
  cookieBox: SealedBox;
  // One-time codes for setting up steps whose input comes from another device.
  capturePage: CapturePage;
  // The live state of a session a headset's stream keeps verified (continuous authentication).
  continuousClaim(sessionUid: string): Promise<ContinuousClaim | undefined>;
}

/** The account console at /account: people manage their own profile, factors and sessions. */
export function accountRouter(deps: AccountConsoleDeps): Router {
  const { config, host, views, csrf, accounts, steps, audit, refusals, storage, throttle } = deps;
  const cookies = new ConsoleCookies(deps.cookieBox);
  const signIn = new ConsoleSignIn(host, config.issuer, cookies);
  const kit = new AccountConsole({ config, host, views, csrf, accounts, audit, refusals, cookies, signIn });
  const router = new Router({ prefix: ACCOUNT_PREFIX });

  router.get('/callback', async (ctx) => {
    const { session, returnTo } = await signIn.finish(ctx);
    cookies.startSession(ctx, session);
    ctx.status = 303;
    ctx.redirect(returnTo);
  });

  router.get('/', kit.signedIn, async (ctx) => {
    const { account, session } = kit.current(ctx);
    kit.render(ctx, 'account', { title: 'Your account', name: account.name, methods: steps.methodNames(session.amr) });
  });

  // Ends the console session and, through RP-initiated logout, the provider session too.
  router.post('/logout', kit.signedIn, async (ctx) => {
    await kit.form(ctx);
    cookies.endSession(ctx);
    ctx.status = 303;
    ctx.redirect(`/session/end?${new URLSearchParams({ client_id: ACCOUNT_CLIENT_ID })}`);
  });

  profileRoutes(router, kit, accounts);
  passwordRoutes(router, kit, { accounts, throttle, storage, policy: deps.passwordPolicy });
  factorRoutes(router, kit, steps, storage, deps.capturePage);
  sessionRoutes(router, kit, { host, storage, cookies, steps, continuousClaim: deps.continuousClaim });
  activityRoutes(router, kit, audit);
  return router;
}
