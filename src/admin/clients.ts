import type { z } from 'zod';
import { ADMIN_READ, ADMIN_WRITE } from './resource.js';
import { auditAdmin, notFound, route, type AdminDeps, type AdminRoute } from './route.js';
import * as s from './schemas.js';

type ClientId = z.infer<typeof s.clientIdParam>;

export function clientRoutes(deps: AdminDeps): AdminRoute[] {
  const { clients, audit } = deps;
  return [
    route({
      method: 'get',
      path: '/clients',
      summary: 'List clients',
      scope: ADMIN_READ,
      responses: { 200: { description: 'every client (never their secrets)', schema: s.clientList } },
      async handle() {
        return { status: 200, body: { clients: await clients.list() } };
      },
    }),
    route<undefined, undefined, z.infer<typeof s.newClient>>({
      method: 'post',
      path: '/clients',
      summary: 'Register a client; a shared secret, if any, is returned only here',
      scope: ADMIN_WRITE,
      body: s.newClient,
      responses: { 201: { description: 'the new client and its secret', schema: s.createdClient } },
      errors: { 409: 'the client id is taken' },
      async handle(input) {
        const { client, secret } = await clients.create(input.body, { validate: deps.validateClient });
        await auditAdmin(audit, input, { type: 'admin.client_created', clientId: client.clientId });
        input.ctx.set('Location', `/admin/v1/clients/${encodeURIComponent(client.clientId)}`);
        return { status: 201, body: { client, clientSecret: secret } };
      },
    }),
    route<ClientId>({
      method: 'get',
      path: '/clients/{clientId}',
      summary: 'Get a client',
      scope: ADMIN_READ,
      params: s.clientIdParam,
      responses: { 200: { description: 'the client (never its secret)', schema: s.client } },
      async handle({ params }) {
        const client = await clients.get(params.clientId);
        if (!client) throw notFound('client');
        return { status: 200, body: client };
      },
    }),
    route<ClientId, undefined, z.infer<typeof s.clientChanges>>({
      method: 'patch',
      path: '/clients/{clientId}',
      summary: "Change a client's name, redirect URIs, scope, back-channel logout URI, first-party flag, flow, grant types, keys (jwks, jwksUri) or protocol requirements (PAR, DPoP, signed request objects)",
      scope: ADMIN_WRITE,
      params: s.clientIdParam,
      body: s.clientChanges,
      responses: { 200: { description: 'the updated client', schema: s.client } },
      async handle(input) {
        const client = await clients.update(input.params.clientId, input.body, { validate: deps.validateClient });
        if (!client) throw notFound('client');
        await auditAdmin(audit, input, { type: 'admin.client_updated', clientId: client.clientId, details: { fields: Object.keys(input.body) } });
        return { status: 200, body: client };
      },
    }),
    route<ClientId>({
      method: 'delete',
      path: '/clients/{clientId}',
      summary: 'Delete a client; it can no longer obtain tokens',
      scope: ADMIN_WRITE,
      params: s.clientIdParam,
      responses: { 204: { description: 'deleted' } },
      async handle(input) {
        if (!(await clients.delete(input.params.clientId))) throw notFound('client');
        await auditAdmin(audit, input, { type: 'admin.client_deleted', clientId: input.params.clientId });
        return { status: 204 };
      },
    }),
    route<ClientId>({
      method: 'post',
      path: '/clients/{clientId}/secret',
      summary: "Replace the client's shared secret; the new one is returned only here",
      scope: ADMIN_WRITE,
      params: s.clientIdParam,
      responses: { 200: { description: 'the new secret', schema: s.rotatedSecret } },
      errors: { 400: 'the client has no shared secret' },
      async handle(input) {
        const secret = await clients.rotateSecret(input.params.clientId);
        if (!secret) throw notFound('client');
        await auditAdmin(audit, input, { type: 'admin.client_secret_rotated', clientId: input.params.clientId });
        return { status: 200, body: { clientId: input.params.clientId, clientSecret: secret } };
      },
    }),
  ];
}
