import type { StoredAuditEvent } from '../../src/security/audit-log.js';
import type { TestServer } from './server.js';

/**
 * The newest `oauth.request_refused` event since `since` (epoch ms) for a provider event and, if
 * given, a client and an error code. Audit notes are written in batches, so this waits up to two
 * seconds for it.
 */
export async function refusalAudited(
  server: TestServer,
  since: number,
  match: { event: string; clientId?: string; error?: string },
): Promise<StoredAuditEvent | undefined> {
  const deadline = Date.now() + 2000;
  for (;;) {
    await server.services.audit.flush();
    const events = await server.services.audit.query({ type: 'oauth.request_refused', from: since, ...(match.clientId ? { clientId: match.clientId } : {}) });
    const found = events.find((e) => e.details?.event === match.event && (match.error === undefined || e.details?.error === match.error));
    if (found || Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
