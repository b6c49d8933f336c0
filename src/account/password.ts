import type Router from '@koa/router';
import type { AccountService } from '../accounts/accounts.js';
import { verifyPassword } from '../accounts/password-hash.js';
import { PasswordRefused, type PasswordPolicy } from '../accounts/password-policy.js';
import type { Storage } from '../oidc/adapter.js';
import type { CredentialThrottle } from '../security/credential-throttle.js';
import type { AccountConsole } from './console.js';

const PAGE = '/account/password';

/**
 * Changing the password: the current one is checked under the same per-account and per-IP
 * limits as the sign-in page (same counters), the new one must pass the password policy like the CLI's.
 */
export function passwordRoutes(router: Router, kit: AccountConsole, deps: { accounts: AccountService; throttle: CredentialThrottle; storage: Storage; policy: PasswordPolicy }): void {
  const { accounts, throttle, storage, policy } = deps;
  const title = 'Change your password';

  router.get('/password', kit.signedIn, (ctx) => {
    if (kit.fresh(ctx, PAGE)) kit.render(ctx, 'account-password', { title });
  });

  router.post('/password', kit.signedIn, async (ctx) => {
    const { fields } = await kit.form(ctx);
    if (!kit.fresh(ctx, PAGE)) return;
    const { account } = kit.current(ctx);
    const refuse = (status: number, message: string) => kit.render(ctx, 'account-password', { title, error: message }, status);
    const next = fields.new_password ?? '';
    if (!fields.current_password || !next) return refuse(400, 'Enter your current password and a new one.');
    if (next !== fields.confirm_password) return refuse(400, 'The new password and its confirmation do not match.');
    try {
      await policy.check(next, account);
    } catch (err) {
      if (!(err instanceof PasswordRefused)) throw err;
      await kit.record(ctx, { type: 'account.password_changed', outcome: 'failure', details: { reason: `password_${err.reason}` } });
      return refuse(400, err.message);
    }

    const locked = await throttle.check(account.username, ctx.ip);
    if (locked) {
      await kit.record(ctx, { type: 'account.password_changed', outcome: 'failure', details: { reason: `locked_${locked.scope}` } });
      ctx.set('Retry-After', String(locked.retryAfterSeconds));
      return refuse(429, `Too many wrong passwords. Try again in ${locked.retryAfterMinutes} minute(s).`);
    }
    const stored = await accounts.passwordHashOf(account.username);
    const ok = stored?.hash ? (await verifyPassword(stored.hash, fields.current_password)).ok : false;
    if (!ok) {
      const nowLocked = await throttle.fail(account.username, ctx.ip);
      await kit.record(ctx, { type: 'account.password_changed', outcome: 'failure', details: { reason: 'wrong_password', ...(nowLocked ? { locked: nowLocked } : {}) } });
      return refuse(401, 'Your current password is not correct.');
    }
    await throttle.succeed(account.username);
    await accounts.setPassword(account.id, next);
    // Whoever knew the old password is signed out everywhere else (this browser stays).
    let endedSessions = 0;
    if (fields.sign_out_others === 'yes') {
      const others = (await storage.findByAccount('Session', account.id)).filter((s) => s.uid !== kit.current(ctx).session.sessionUid);
      await Promise.all(others.map((s) => storage.endSession(s)));
      endedSessions = others.length;
    }
    await kit.record(ctx, { type: 'account.password_changed', outcome: 'success', details: { ended_sessions: endedSessions } });
    kit.done(ctx, PAGE, 'password');
  });
}
