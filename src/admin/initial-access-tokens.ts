import type { z } from 'zod';
import { ADMIN_READ, ADMIN_WRITE } from './resource.js';
import { auditAdmin, notFound, route, type AdminDeps, type AdminRoute } from './route.js';
import * as s from './schemas.js';

type TokenId = z.infer<typeof s.initialAccessTokenId>;

/** Initial access tokens for dynamic client registration (RFC 7591 §3). */
export function initialAccessTokenRoutes(deps: AdminDeps): AdminRoute[] {
  const { initialAccessTokens, audit } = deps;
  return [
    route({
      method: 'get',
      path: '/initial-access-tokens',
      summary: 'List initial access tokens (never their values)',
      scope: ADMIN_READ,
      responses: { 200: { description: 'every token, newest first, revoked ones included', schema: s.initialAccessTokenList } },
      async handle() {
        return { status: 200, body: { initialAccessTokens: await initialAccessTokens.list() } };
      },
    }),
    route<undefined, undefined, z.infer<typeof s.newInitialAccessToken>>({
      method: 'post',
      path: '/initial-access-tokens',
      summary: 'Issue an initial access token for the registration endpoint; its value is returned only here',
      scope: ADMIN_WRITE,
      body: s.newInitialAccessToken,
      responses: { 201: { description: 'the token and its value', schema: s.createdInitialAccessToken } },
      errors: { 400: 'invalid input, or a policy that is not configured' },
      async handle(input) {
        const { token, value } = await initialAccessTokens.create(input.body);
        await auditAdmin(audit, input, { type: 'admin.initial_access_token_created', details: { id: token.id, policies: token.policies } });
        return { status: 201, body: { initialAccessToken: token, value } };
      },
    }),
    route<TokenId>({
      method: 'delete',
      path: '/initial-access-tokens/{id}',
      summary: 'Revoke an initial access token; clients it registered keep working',
      scope: ADMIN_WRITE,
      params: s.initialAccessTokenId,
      responses: { 204: { description: 'revoked' } },
      async handle(input) {
        if (!(await initialAccessTokens.revoke(input.params.id))) throw notFound('initial access token');
        await auditAdmin(audit, input, { type: 'admin.initial_access_token_revoked', details: { id: input.params.id } });
        return { status: 204 };
      },
    }),
  ];
}
