import type { Services } from '../services.js';
import { parse, required, UsageError } from './args.js';
import { iso, print } from './output.js';

export const REGISTRATION_TOKEN_HELP = `tessera client registration-token create [--policy NAME]... [--description TEXT] [--expires-in SECONDS]
tessera client registration-token list
tessera client registration-token revoke ID`;

/** Initial access tokens for dynamic client registration (the admin API's /initial-access-tokens). */
export async function registrationTokenCommand(s: Services, [sub, ...args]: string[]): Promise<void> {
  switch (sub) {
    case 'create': {
      const { values } = parse(args, { policy: { type: 'string', multiple: true }, description: { type: 'string' }, 'expires-in': { type: 'string' } });
      const expiresIn = values['expires-in'] === undefined ? undefined : Number(values['expires-in']);
      if (expiresIn !== undefined && !(Number.isInteger(expiresIn) && expiresIn >= 60)) throw new UsageError('--expires-in must be a whole number of seconds, at least 60');
      const { token, value } = await s.initialAccessTokens.create({ policies: values.policy, description: values.description, expiresInSeconds: expiresIn });
      await s.audit.record({ type: 'admin.initial_access_token_created', outcome: 'success', details: { via: 'cli', id: token.id, policies: token.policies } });
      // The value is shown this once; only its hash is stored.
      return print(Boolean(values.json), { ...token, value }, () => [
        [`id:      ${token.id}`],
        [`token:   ${value}`],
        [`expires: ${iso(token.expiresAt)}`],
        ['(the token is shown only now; give it to the client that will register)'],
      ]);
    }
    case 'list': {
      const { values } = parse(args, {});
      const tokens = await s.initialAccessTokens.list();
      return print(Boolean(values.json), tokens, () => [
        ['ID', 'POLICIES', 'DESCRIPTION', 'EXPIRES', 'REVOKED'],
        ...tokens.map((t) => [t.id, t.policies.join(',') || '-', t.description ?? '-', iso(t.expiresAt), iso(t.revokedAt)]),
      ]);
    }
    case 'revoke': {
      const { values, positionals } = parse(args, {}, 1);
      const id = required(positionals[0], 'ID');
      if (!(await s.initialAccessTokens.revoke(id))) throw new UsageError(`no such initial access token: ${id}`);
      await s.audit.record({ type: 'admin.initial_access_token_revoked', outcome: 'success', details: { via: 'cli', id } });
      return print(Boolean(values.json), { id, revoked: true }, () => [[`revoked initial access token ${id}`]]);
    }
    default:
      throw new UsageError(sub ? `unknown command: client registration-token ${sub}\n${REGISTRATION_TOKEN_HELP}` : REGISTRATION_TOKEN_HELP);
  }
}
