import { readFileSync } from 'node:fs';
import type { ClientMetadata } from 'oidc-provider';
import { ClientError, type NewClient } from '../accounts/clients.js';
import type { Services } from '../services.js';
import { DEVICE_CODE_GRANT } from '../oidc/features/device-flow.js';
import { parse, required, UsageError } from './args.js';
import { flowCatalogue } from './flow.js';
import { iso, print } from './output.js';
import { REGISTRATION_TOKEN_HELP, registrationTokenCommand } from './registration-token.js';

const HELP = `tessera client create --name NAME [--redirect-uri URL]... [--post-logout-redirect-uri URL]...
                      [--grant-type authorization_code|refresh_token|client_credentials|device_code]...
                      [--auth-method client_secret_basic|client_secret_post|private_key_jwt|none]
                      [--jwks-uri URL | --jwks-file FILE] [--scope "a b"] [--backchannel-logout-uri URL]
                      [--first-party] [--flow FLOW] [--id CLIENT_ID] [--require-par] [--dpop-bound]
                      [--require-signed-request-object]
tessera client list
tessera client update CLIENT_ID [--name NAME] [--redirect-uri URL]... [--post-logout-redirect-uri URL]...
                      [--scope "a b"] [--backchannel-logout-uri URL] [--first-party true|false] [--flow FLOW]
                      [--grant-type TYPE]... (replaces the list)
                      [--require-par true|false] [--dpop-bound true|false] [--require-signed-request-object true|false]
                      [--jwks-uri URL | --jwks-file FILE]
tessera client delete CLIENT_ID
tessera client rotate-secret CLIENT_ID
${REGISTRATION_TOKEN_HELP}`;

const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'] as const;
const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', DEVICE_CODE_GRANT];
// The device code grant's URN is long to type: device_code stands for it.
const GRANT_ALIASES: Record<string, string> = { device_code: DEVICE_CODE_GRANT };

/** The --grant-type values as registered; the device code grant only while the server offers it (the provider would refuse the client). */
function grantTypesOf(s: Services, given: string[] | undefined): string[] | undefined {
  const grants = given?.map((g) => GRANT_ALIASES[g] ?? g);
  for (const g of grants ?? []) if (!GRANT_TYPES.includes(g)) throw new UsageError('--grant-type must be one of authorization_code, refresh_token, client_credentials, device_code');
  if (grants?.includes(DEVICE_CODE_GRANT) && !s.config.deviceFlow) throw new UsageError('--grant-type device_code needs the device flow switched on (TESSERA_DEVICE_FLOW=true)');
  return grants;
}

function readJwks(path: string): { keys: unknown[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`--jwks-file: cannot read JSON from ${path} (${(err as Error).message})`);
  }
  if (!parsed || typeof parsed !== 'object' || !Array.isArray((parsed as { keys?: unknown }).keys)) {
    throw new UsageError('--jwks-file must hold a JWK Set ({"keys": [...]})');
  }
  return parsed as { keys: unknown[] };
}

/** A true|false option of `client update`. */
function trueOrFalse(value: string | undefined, flag: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value !== 'true' && value !== 'false') throw new UsageError(`${flag} must be true or false`);
  return value === 'true';
}

/** A client's flow must exist, as the provider checks when it loads the client. */
const flowExists = (s: Services) => async (metadata: ClientMetadata) => {
  const flow = metadata.tessera_flow;
  if (typeof flow === 'string' && !(await (await flowCatalogue(s)).exists(flow))) throw new ClientError(`--flow: no flow named ${flow} (see tessera flow list)`);
};

export async function clientCommand(s: Services, [sub, ...args]: string[]): Promise<void> {
  switch (sub) {
    case 'create': {
      const { values } = parse(args, {
        id: { type: 'string' },
        name: { type: 'string' },
        'redirect-uri': { type: 'string', multiple: true },
        'post-logout-redirect-uri': { type: 'string', multiple: true },
        'grant-type': { type: 'string', multiple: true },
        'auth-method': { type: 'string' },
        'jwks-uri': { type: 'string' },
        'jwks-file': { type: 'string' },
        scope: { type: 'string' },
        'backchannel-logout-uri': { type: 'string' },
        'first-party': { type: 'boolean' },
        flow: { type: 'string' },
        'require-par': { type: 'boolean' },
        'dpop-bound': { type: 'boolean' },
        'require-signed-request-object': { type: 'boolean' },
      });
      const authMethod = values['auth-method'] ?? 'client_secret_basic';
      if (!AUTH_METHODS.includes(authMethod as (typeof AUTH_METHODS)[number])) {
        throw new UsageError(`--auth-method must be one of ${AUTH_METHODS.join(', ')}`);
      }
      const grantTypes = grantTypesOf(s, values['grant-type']);
      const input: NewClient = {
        clientId: values.id,
        name: required(values.name, '--name'),
        redirectUris: values['redirect-uri'],
        postLogoutRedirectUris: values['post-logout-redirect-uri'],
        grantTypes,
        authMethod: authMethod as NewClient['authMethod'],
        jwksUri: values['jwks-uri'],
        jwks: values['jwks-file'] ? readJwks(values['jwks-file']) : undefined,
        scope: values.scope,
        backchannelLogoutUri: values['backchannel-logout-uri'],
        firstParty: values['first-party'],
        flow: values.flow,
        requirePushedAuthorizationRequests: values['require-par'],
        dpopBoundAccessTokens: values['dpop-bound'],
        requireSignedRequestObject: values['require-signed-request-object'],
      };
      const { client, secret } = await s.clients.create(input, { validate: flowExists(s) });
      await s.audit.record({ type: 'admin.client_created', outcome: 'success', clientId: client.clientId, details: { via: 'cli' } });
      // The secret is shown this once; only its sealed form is stored.
      return print(Boolean(values.json), { client_id: client.clientId, client_secret: secret, metadata: client.metadata }, () => [
        [`client_id:     ${client.clientId}`],
        ...(secret ? [[`client_secret: ${secret}`], ['(the secret is shown only now; store it safely)']] : []),
      ]);
    }
    case 'list': {
      const { values } = parse(args, {});
      const clients = await s.clients.list();
      return print(Boolean(values.json), clients, () => [
        ['CLIENT_ID', 'NAME', 'AUTH', 'GRANTS', 'ORIGIN', 'CREATED'],
        ...clients.map((c) => [
          c.clientId,
          String(c.metadata.client_name ?? '-'),
          String(c.metadata.token_endpoint_auth_method),
          (c.metadata.grant_types ?? []).join(','),
          c.selfRegistered ? 'registered' : 'admin',
          iso(c.createdAt),
        ]),
      ]);
    }
    case 'update': {
      const { values, positionals } = parse(
        args,
        {
          name: { type: 'string' },
          'redirect-uri': { type: 'string', multiple: true },
          'post-logout-redirect-uri': { type: 'string', multiple: true },
          scope: { type: 'string' },
          'backchannel-logout-uri': { type: 'string' },
          'first-party': { type: 'string' },
          flow: { type: 'string' },
          'grant-type': { type: 'string', multiple: true },
          'require-par': { type: 'string' },
          'dpop-bound': { type: 'string' },
          'require-signed-request-object': { type: 'string' },
          'jwks-uri': { type: 'string' },
          'jwks-file': { type: 'string' },
        },
        1,
      );
      const clientId = required(positionals[0], 'CLIENT_ID');
      const changes = {
        name: values.name,
        redirectUris: values['redirect-uri'],
        postLogoutRedirectUris: values['post-logout-redirect-uri'],
        scope: values.scope,
        backchannelLogoutUri: values['backchannel-logout-uri'],
        firstParty: trueOrFalse(values['first-party'], '--first-party'),
        flow: values.flow,
        grantTypes: grantTypesOf(s, values['grant-type']),
        requirePushedAuthorizationRequests: trueOrFalse(values['require-par'], '--require-par'),
        dpopBoundAccessTokens: trueOrFalse(values['dpop-bound'], '--dpop-bound'),
        requireSignedRequestObject: trueOrFalse(values['require-signed-request-object'], '--require-signed-request-object'),
        jwksUri: values['jwks-uri'],
        jwks: values['jwks-file'] ? readJwks(values['jwks-file']) : undefined,
      };
      const fields = Object.entries(changes).filter(([, v]) => v !== undefined).map(([k]) => k);
      if (!fields.length) throw new UsageError(`nothing to change\n${HELP}`);
      const client = await s.clients.update(clientId, changes, { validate: flowExists(s) });
      if (!client) throw new UsageError(`no such client: ${clientId}`);
      await s.audit.record({ type: 'admin.client_updated', outcome: 'success', clientId, details: { via: 'cli', fields } });
      return print(Boolean(values.json), client, () => [[`updated client ${clientId}: ${fields.join(', ')}`]]);
    }
    case 'delete': {
      const { values, positionals } = parse(args, {}, 1);
      const clientId = required(positionals[0], 'CLIENT_ID');
      if (!(await s.clients.delete(clientId))) throw new UsageError(`no such client: ${clientId}`);
      await s.audit.record({ type: 'admin.client_deleted', outcome: 'success', clientId, details: { via: 'cli' } });
      return print(Boolean(values.json), { client_id: clientId, deleted: true }, () => [[`deleted client ${clientId}`]]);
    }
    case 'rotate-secret': {
      const { values, positionals } = parse(args, {}, 1);
      const clientId = required(positionals[0], 'CLIENT_ID');
      const secret = await s.clients.rotateSecret(clientId);
      if (!secret) throw new UsageError(`no such client: ${clientId}`);
      await s.audit.record({ type: 'admin.client_secret_rotated', outcome: 'success', clientId, details: { via: 'cli' } });
      return print(Boolean(values.json), { client_id: clientId, client_secret: secret }, () => [
        [`client_secret: ${secret}`],
        ['(the secret is shown only now; the old one no longer works)'],
      ]);
    }
    case 'registration-token':
      return registrationTokenCommand(s, args);
    default:
      throw new UsageError(sub ? `unknown command: client ${sub}\n${HELP}` : HELP);
  }
}
