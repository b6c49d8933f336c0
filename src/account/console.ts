import type { Context, Next } from 'koa';
import type { Config } from '../../config/schema.js';
import type { Account, AccountService } from '../accounts/accounts.js';
import { readSubmission } from '../http/form-body.js';
import type { Views } from '../http/views.js';
import type { ProviderHost } from '../oidc/provider-host.js';
import type { AuditEvent, AuditLog } from '../security/audit-log.js';
import type { Csrf } from '../security/csrf.js';
import type { RefusedSubmissions } from '../security/refused-submissions.js';
import type { Attempt, Step, StepInput } from '../steps/step.js';
import { ACCOUNT_CLIENT_ID, ACCOUNT_PREFIX } from './account-client.js';
import type { ConsoleCookies, ConsoleSession } from './console-session.js';
import type { ConsoleSignIn } from './sign-in.js';

export interface SignedIn {
  session: ConsoleSession;
  account: Account;
}

// Outcomes shown after a redirect (?done=…): fixed texts, so nothing from the URL is echoed.
const NOTICES = {
  profile: 'Your profile was saved.',
  password: 'Your password was changed.',
  enrolled: 'The sign-in method is set up.',
  removed: 'The sign-in method was removed.',
  renamed: 'The name was saved.',
  action: 'Done.',
  session: 'The session was signed out.',
  client: "The application's access was revoked.",
} as const;
type Notice = keyof typeof NOTICES;
const noticeFor = (value: unknown): string | undefined => (typeof value === 'string' && Object.hasOwn(NOTICES, value) ? NOTICES[value as Notice] : undefined);

/**
 * What every console page shares: the signed-in account (checked against the provider session
 * on each request), forms with CSRF tokens, the freshness rule for sensitive changes, the audit.
 */
export class AccountConsole {
  constructor(
    private readonly deps: {
      config: Config;
      host: ProviderHost;
      views: Views;
      csrf: Csrf;
      accounts: AccountService;
      audit: AuditLog;
      refusals: RefusedSubmissions;
      cookies: ConsoleCookies;
      signIn: ConsoleSignIn;
    },
  ) {}

  /**
   * Middleware: lets the request through only with a console session whose provider session is
   * still alive (not signed out or revoked) for an enabled account; otherwise starts a sign-in.
   */
  signedIn = async (ctx: Context, next: Next) => {
    const { cookies, signIn } = this.deps;
    const session = cookies.session(ctx);
    const account = session && (await this.liveAccount(session));
    if (!session || !account) {
      cookies.endSession(ctx);
      return signIn.start(ctx, ctx.method === 'GET' ? ctx.originalUrl : ACCOUNT_PREFIX);
    }
    ctx.state.console = { session, account } satisfies SignedIn;
    await next();
  };

  private async liveAccount(session: ConsoleSession): Promise<Account | undefined> {
    const provider = await this.deps.host.current.Session.findByUid(session.sessionUid);
    if (provider?.accountId !== session.accountId) return undefined;
    const account = await this.deps.accounts.findById(session.accountId);
    return account && !account.disabled ? account : undefined;
  }

  current(ctx: Context): SignedIn {
    return ctx.state.console as SignedIn;
  }

  attempt(ctx: Context): Attempt {
    return { ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined, clientId: ACCOUNT_CLIENT_ID };
  }

  /**
   * Sensitive changes need a recent authentication: when the console session's is older than
   * `accountReauthSeconds`, the browser goes through a fresh sign-in and comes back to `returnTo`.
   */
  fresh(ctx: Context, returnTo: string): boolean {
    const age = Math.floor(Date.now() / 1000) - this.current(ctx).session.authTime;
    if (age <= this.deps.config.accountReauthSeconds) return true;
    this.deps.signIn.start(ctx, returnTo, true);
    return false;
  }

  private binding(ctx: Context) {
    return `account:${this.current(ctx).account.id}`;
  }

  /**
   * A posted form with a valid CSRF token. A step's submission (`step`) may be multipart when the
   * step takes files, and a refusal while its body is read is audited (the step never sees it).
   */
  async form(ctx: Context, step?: Step): Promise<StepInput> {
    const input = step
      ? await this.deps.refusals.read(ctx, { step: step.id, subject: this.current(ctx).account.id, clientId: ACCOUNT_CLIENT_ID }, step.upload)
      : await readSubmission(ctx);
    if (!this.deps.csrf.valid(ctx, this.binding(ctx), input.fields.csrf)) {
      ctx.throw(403, 'This form has expired or was not sent by this site. Go back, reload the page and try again.');
    }
    return input;
  }

  render(ctx: Context, view: string, data: Record<string, unknown>, status = 200): void {
    const { account } = this.current(ctx);
    const notice = noticeFor(ctx.query.done);
    this.deps.views.render(ctx, view, { csrf: this.deps.csrf.token(ctx, this.binding(ctx)), username: account.username, notice, ...data }, status);
  }

  /** After a change: back to a page (GET), with a fixed notice. */
  done(ctx: Context, path: string, notice: Notice): void {
    ctx.status = 303;
    ctx.redirect(`${path}?done=${notice}`);
  }

  /** Writes an audit event about the signed-in account, from the console. */
  record(ctx: Context, event: Omit<AuditEvent, 'subject' | 'ip' | 'userAgent' | 'clientId'>): Promise<void> {
    return this.deps.audit.record({ ...event, subject: this.current(ctx).account.id, ...this.attempt(ctx) });
  }
}
