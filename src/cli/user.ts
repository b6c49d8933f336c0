import type { Services } from '../services.js';
import { parse, readStdinSecret, required, UsageError } from './args.js';
import { createSteps } from '../steps/all-steps.js';
import { iso, print } from './output.js';

const HELP = `tessera user create --username NAME [--email ADDR] [--email-verified] [--name "Full Name"]
                    [--password-stdin | --password-hash-stdin]   (or TESSERA_PASSWORD in the environment)
tessera user list
tessera user disable|enable USER
tessera user set-password USER [--password-stdin]                (or TESSERA_PASSWORD)
tessera user delete USER
tessera user credentials USER STEP                               (each of a step's credentials, e.g. passkey)
tessera user remove-credential USER STEP CREDENTIAL              (one of them, by the id listed)`;

/** The per-credential management of a step whose users hold several (the passkey step). */
async function severalOf(s: Services, stepId: string) {
  const steps = await createSteps(s);
  const several = steps.get(stepId)?.enrollment?.several;
  if (!several) throw new UsageError(`${stepId} is not a step holding several credentials per user (those that are: ${steps.ids().filter((id) => steps.get(id)?.enrollment?.several).join(', ')})`);
  return several;
}

async function passwordFrom(flags: { 'password-stdin'?: boolean }): Promise<string | undefined> {
  if (flags['password-stdin']) return readStdinSecret('--password-stdin');
  return process.env.TESSERA_PASSWORD || undefined;
}

export async function userCommand(s: Services, [sub, ...args]: string[]): Promise<void> {
  const via = { via: 'cli' };
  const counted = ({ sessions, grants }: { sessions: unknown[]; grants: number }) => ({ sessions: sessions.length, grants });
  switch (sub) {
    case 'create': {
      const { values } = parse(args, {
        username: { type: 'string' },
        email: { type: 'string' },
        'email-verified': { type: 'boolean' },
        name: { type: 'string' },
        'password-stdin': { type: 'boolean' },
        'password-hash-stdin': { type: 'boolean' },
      });
      if (values['password-stdin'] && values['password-hash-stdin']) throw new UsageError('use --password-stdin or --password-hash-stdin, not both');
      // An imported hash has no plaintext to check; a password typed here passes the policy first.
      const passwordHash = values['password-hash-stdin'] ? await readStdinSecret('--password-hash-stdin') : undefined;
      const owner = { username: required(values.username, '--username'), email: values.email, name: values.name };
      const password = passwordHash ? undefined : await passwordFrom(values);
      if (password !== undefined) await s.passwordPolicy.check(password, owner);
      const account = await s.accounts.create({ ...owner, emailVerified: values['email-verified'], password, passwordHash });
      await s.audit.record({ type: 'admin.user_created', outcome: 'success', subject: account.id, details: via });
      return print(Boolean(values.json), account, () => [[`created user ${account.username} (${account.id})`]]);
    }
    case 'list': {
      const { values } = parse(args, {});
      const accounts = await s.accounts.list();
      return print(Boolean(values.json), accounts, () => [
        ['ID', 'USERNAME', 'EMAIL', 'NAME', 'STATUS', 'CREATED'],
        ...accounts.map((a) => [a.id, a.username, a.email ?? '-', a.name ?? '-', a.disabled ? 'disabled' : 'active', iso(a.createdAt)]),
      ]);
    }
    case 'disable':
    case 'enable': {
      const { values, positionals } = parse(args, {}, 1);
      const account = await s.accounts.resolve(required(positionals[0], 'USER'));
      await s.accounts.setDisabled(account.id, sub === 'disable');
      // A disabled user keeps nothing: sessions end, grants and their tokens are revoked. (The CLI
      // runs no provider, so back-channel logout clients are not told; the admin API tells them.)
      const revoked = sub === 'disable' ? counted(await s.storage.revokeAccount(account.id)) : undefined;
      await s.audit.record({ type: sub === 'disable' ? 'admin.user_disabled' : 'admin.user_enabled', outcome: 'success', subject: account.id, details: { ...via, ...(revoked && { revoked }) } });
      return print(Boolean(values.json), { id: account.id, disabled: sub === 'disable' }, () => [[`${sub}d user ${account.username}`]]);
    }
    case 'set-password': {
      const { values, positionals } = parse(args, { 'password-stdin': { type: 'boolean' } }, 1);
      const account = await s.accounts.resolve(required(positionals[0], 'USER'));
      const password = await passwordFrom(values);
      if (!password) throw new UsageError('give the new password with --password-stdin or TESSERA_PASSWORD');
      await s.passwordPolicy.check(password, account);
      await s.accounts.setPassword(account.id, password);
      await s.audit.record({ type: 'admin.password_set', outcome: 'success', subject: account.id, details: via });
      return print(Boolean(values.json), { id: account.id, passwordSet: true }, () => [[`password set for ${account.username}`]]);
    }
    case 'delete': {
      const { values, positionals } = parse(args, {}, 1);
      const account = await s.accounts.resolve(required(positionals[0], 'USER'));
      const revoked = counted(await s.storage.revokeAccount(account.id));
      await s.accounts.delete(account.id);
      await s.audit.record({ type: 'admin.user_deleted', outcome: 'success', subject: account.id, details: { ...via, revoked } });
      return print(Boolean(values.json), { id: account.id, deleted: true }, () => [[`deleted user ${account.username}`]]);
    }
    case 'credentials': {
      const { values, positionals } = parse(args, {}, 2);
      const account = await s.accounts.resolve(required(positionals[0], 'USER'));
      const credentials = await (await severalOf(s, required(positionals[1], 'STEP'))).list(account);
      return print(Boolean(values.json), credentials, () => [
        ['ID', 'NAME', 'KIND', 'CREATED', 'LAST USED'],
        ...credentials.map((c) => [c.id, c.name, c.kind ?? '-', iso(c.createdAt), iso(c.lastUsedAt)]),
      ]);
    }
    case 'remove-credential': {
      const { values, positionals } = parse(args, {}, 3);
      const account = await s.accounts.resolve(required(positionals[0], 'USER'));
      const step = required(positionals[1], 'STEP');
      const credential = required(positionals[2], 'CREDENTIAL');
      // The CLI has no client address; the step's own audit event says what removed it.
      if (!(await (await severalOf(s, step)).removeOne(account, credential, { ip: '', userAgent: 'tessera-cli' }))) throw new UsageError(`no such ${step} credential: ${credential}`);
      await s.audit.record({ type: 'admin.credential_removed', outcome: 'success', subject: account.id, details: { ...via, step, credential } });
      return print(Boolean(values.json), { id: account.id, step, credential, removed: true }, () => [[`removed ${step} credential ${credential} of ${account.username}`]]);
    }
    default:
      throw new UsageError(sub ? `unknown command: user ${sub}\n${HELP}` : HELP);
  }
}
