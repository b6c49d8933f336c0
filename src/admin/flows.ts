import type { z } from 'zod';
import { ADMIN_READ, ADMIN_WRITE } from './resource.js';
import { auditAdmin, notFound, route, type AdminDeps, type AdminRoute } from './route.js';
import * as s from './schemas.js';

type Name = z.infer<typeof s.flowName>;

export function flowRoutes(deps: AdminDeps): AdminRoute[] {
  const { flows, audit } = deps;
  const location = (name: string) => `/admin/v1/flows/${encodeURIComponent(name)}`;
  return [
    route({
      method: 'get',
      path: '/flows',
      summary: 'List sign-in flows: those of the config file (read-only), then those defined here',
      scope: ADMIN_READ,
      responses: { 200: { description: 'every flow', schema: s.flowList } },
      async handle() {
        return { status: 200, body: { flows: await flows.list() } };
      },
    }),
    route<undefined, undefined, z.infer<typeof s.newFlow>>({
      method: 'post',
      path: '/flows',
      summary: 'Define a flow; it applies on every server process within seconds',
      scope: ADMIN_WRITE,
      body: s.newFlow,
      responses: { 201: { description: 'the new flow', schema: s.flow } },
      errors: { 400: 'invalid input, unknown steps, a count above its steps, or a first requirement that cannot identify the user', 409: 'the name or an acr value is taken' },
      async handle(input) {
        const { name, ...settings } = input.body;
        const { flow } = await flows.save(name, settings, { replace: false });
        await deps.reloadFlows();
        await auditAdmin(audit, input, { type: 'admin.flow_created', details: { flow: name, acrValues: flow.acrValues } });
        input.ctx.set('Location', location(name));
        return { status: 201, body: flow };
      },
    }),
    route<Name>({
      method: 'get',
      path: '/flows/{name}',
      summary: 'Get a flow',
      scope: ADMIN_READ,
      params: s.flowName,
      responses: { 200: { description: 'the flow', schema: s.flow } },
      async handle({ params }) {
        const flow = await flows.get(params.name);
        if (!flow) throw notFound('flow');
        return { status: 200, body: flow };
      },
    }),
    route<Name, undefined, z.infer<typeof s.flowSettingsBody>>({
      method: 'put',
      path: '/flows/{name}',
      summary: 'Create or replace a flow defined here (config-file flows are read-only)',
      scope: ADMIN_WRITE,
      params: s.flowName,
      body: s.flowSettingsBody,
      responses: { 200: { description: 'the replaced flow', schema: s.flow }, 201: { description: 'the new flow', schema: s.flow } },
      errors: { 400: 'invalid input, unknown steps, a count above its steps, or a first requirement that cannot identify the user', 409: 'a config-file flow, or an acr value that is taken' },
      async handle(input) {
        const { created, flow } = await flows.save(input.params.name, input.body, { replace: true });
        await deps.reloadFlows();
        await auditAdmin(audit, input, { type: created ? 'admin.flow_created' : 'admin.flow_updated', details: { flow: flow.name, acrValues: flow.acrValues } });
        if (created) input.ctx.set('Location', location(flow.name));
        return { status: created ? 201 : 200, body: flow };
      },
    }),
    route<Name>({
      method: 'delete',
      path: '/flows/{name}',
      summary: 'Delete a flow defined here; refused while acr values map to it or clients use it',
      scope: ADMIN_WRITE,
      params: s.flowName,
      responses: { 204: { description: 'deleted' } },
      errors: { 409: 'a config-file flow, or one still in use (acr values, client default flow)' },
      async handle(input) {
        if (!(await flows.delete(input.params.name))) throw notFound('flow');
        await deps.reloadFlows();
        await auditAdmin(audit, input, { type: 'admin.flow_deleted', details: { flow: input.params.name } });
        return { status: 204 };
      },
    }),
  ];
}
