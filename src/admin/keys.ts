import type { z } from 'zod';
import { retireAfterSeconds } from '../services.js';
import { ADMIN_READ, ADMIN_WRITE } from './resource.js';
import { auditAdmin, route, type AdminDeps, type AdminRoute } from './route.js';
import * as s from './schemas.js';

export function keyRoutes(deps: AdminDeps): AdminRoute[] {
  const { keys, config, audit } = deps;
  return [
    route({
      method: 'get',
      path: '/keys',
      summary: 'List signing keys (public information only)',
      scope: ADMIN_READ,
      responses: { 200: { description: 'current, next and retired keys', schema: s.keyList } },
      async handle() {
        return { status: 200, body: { keys: await keys.list() } };
      },
    }),
    route<undefined, undefined, z.infer<typeof s.rotation>>({
      method: 'post',
      path: '/keys/rotate',
      summary: "Rotate signing keys: each algorithm's next key starts signing, the current one is retired",
      scope: ADMIN_WRITE,
      body: s.rotation,
      responses: { 200: { description: 'what was rotated', schema: s.rotated } },
      errors: { 409: 'the next key has not been published for long enough (use force)' },
      async handle(input) {
        const rotated = await keys.rotate({
          leadSeconds: config.keyPublishLeadSeconds,
          retireAfterSeconds: retireAfterSeconds(config),
          force: input.body.force,
          algs: input.body.algs,
        });
        await deps.reloadKeys();
        await auditAdmin(audit, input, { type: 'key.rotated', details: { rotated } });
        return { status: 200, body: { rotated } };
      },
    }),
  ];
}
