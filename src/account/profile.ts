import type Router from '@koa/router';
import { AccountError, type AccountChanges, type AccountService } from '../accounts/accounts.js';
import type { AccountConsole } from './console.js';

const MAX_NAME = 256;
const MAX_EMAIL = 320;

/** Name and email (a new email is unverified until proven); the username is fixed. */
export function profileRoutes(router: Router, kit: AccountConsole, accounts: AccountService): void {
  const page = (account: { username: string; name?: string; email?: string; emailVerified: boolean }, extra: Record<string, unknown> = {}) => ({
    title: 'Your profile',
    name: account.name,
    email: account.email,
    emailVerified: account.email ? account.emailVerified : undefined,
    ...extra,
  });

  router.get('/profile', kit.signedIn, (ctx) => kit.render(ctx, 'account-profile', page(kit.current(ctx).account)));

  router.post('/profile', kit.signedIn, async (ctx) => {
    const { fields } = await kit.form(ctx);
    const { account } = kit.current(ctx);
    const name = (fields.name ?? '').trim();
    const email = (fields.email ?? '').trim();
    const refuse = (message: string) => kit.render(ctx, 'account-profile', page(account, { name, email, error: message }), 400);
    if (name.length > MAX_NAME) return refuse(`Your name can be at most ${MAX_NAME} characters.`);
    if (email.length > MAX_EMAIL) return refuse(`The email address can be at most ${MAX_EMAIL} characters.`);
    const changes: AccountChanges = {};
    if (name !== (account.name ?? '')) changes.name = name || null;
    if (email !== (account.email ?? '')) {
      changes.email = email || null;
      changes.emailVerified = false;
    }
    const fieldsChanged = Object.keys(changes).filter((k) => k !== 'emailVerified');
    if (!fieldsChanged.length) return kit.done(ctx, '/account/profile', 'profile');
    try {
      await accounts.update(account.id, changes);
    } catch (err) {
      if (err instanceof AccountError) return refuse('Enter a valid email address, like name@example.com.');
      throw err;
    }
    // Which fields changed, not their values: the trail needs no personal data.
    await kit.record(ctx, { type: 'account.profile_updated', outcome: 'success', details: { fields: fieldsChanged } });
    kit.done(ctx, '/account/profile', 'profile');
  });
}
