import type { z } from 'zod';
import { ADMIN_READ } from './resource.js';
import { route, type AdminDeps, type AdminRoute } from './route.js';
import * as s from './schemas.js';

export function auditRoutes(deps: AdminDeps): AdminRoute[] {
  return [
    route<undefined, z.infer<typeof s.auditQuery>>({
      method: 'get',
      path: '/audit-events',
      summary: 'Query audit events, newest first, by subject, client, type and time',
      scope: ADMIN_READ,
      query: s.auditQuery,
      responses: { 200: { description: 'one page of events', schema: s.auditPage } },
      async handle({ query }) {
        // Events still queued in this process belong in the answer.
        await deps.audit.flush();
        const events = await deps.audit.query({
          subject: query.subject,
          clientId: query.clientId,
          type: query.type,
          from: query.from,
          to: query.to,
          beforeId: query.cursor === undefined ? undefined : Number(query.cursor),
          limit: query.limit,
        });
        const last = events.at(-1);
        const nextCursor = events.length === query.limit && last ? String(last.id) : null;
        return { status: 200, body: { events, nextCursor } };
      },
    }),
  ];
}
