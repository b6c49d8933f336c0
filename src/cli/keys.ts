import { SIGNING_ALGS, type SigningAlg } from '../oidc/signing-keys.js';
import { retireAfterSeconds, type Services } from '../services.js';
import { parse, UsageError } from './args.js';
import { iso, print } from './output.js';

const HELP = `tessera keys list
tessera keys rotate [--alg RS256|ES256|EdDSA]... [--force]`;

export async function keysCommand(s: Services, [sub, ...args]: string[]): Promise<void> {
  switch (sub) {
    case 'list': {
      const { values } = parse(args, {});
      const keys = await s.keys.list();
      return print(Boolean(values.json), keys, () => [
        ['KID', 'ALG', 'STATE', 'CREATED', 'ACTIVATED', 'PUBLISHED UNTIL'],
        ...keys.map((k) => [k.kid, k.alg, k.state, iso(k.createdAt), iso(k.activatedAt), k.state === 'retired' ? iso(k.retireUntil) : '-']),
      ]);
    }
    case 'rotate': {
      const { values } = parse(args, { alg: { type: 'string', multiple: true }, force: { type: 'boolean' } });
      for (const alg of values.alg ?? []) {
        if (!SIGNING_ALGS.includes(alg as SigningAlg)) throw new UsageError(`--alg must be one of ${SIGNING_ALGS.join(', ')}`);
      }
      const rotated = await s.keys.rotate({
        leadSeconds: s.config.keyPublishLeadSeconds,
        retireAfterSeconds: retireAfterSeconds(s.config),
        force: values.force,
        algs: values.alg as SigningAlg[] | undefined,
      });
      await s.audit.record({ type: 'key.rotated', outcome: 'success', details: { via: 'cli', rotated } });
      return print(Boolean(values.json), rotated, () =>
        rotated.map((r) => [`${r.alg}: now signing with ${r.promoted}; ${r.retired} retired (published until its tokens expire)`]),
      );
    }
    default:
      throw new UsageError(sub ? `unknown command: keys ${sub}\n${HELP}` : HELP);
  }
}
