import type { StoredAuditEvent } from '../../src/security/audit-log.js';
import type { TestServer } from './server.js';

/**
 * The newest `oauth.request_refused` event of a client for a provider event. Refusals are audited
 * after the response (the per-IP cap is counted first), so this waits up to two seconds for it.
 */
export async function refusalAudited(server: TestServer, clientId: string | undefined, event: string): Promise<StoredAuditEvent | undefined> {
  const deadline = Date.now() + 2000;
  for (;;) {
    await server.services.audit.flush();
    const found = (await server.services.audit.query({ type: 'oauth.request_refused', ...(clientId ? { clientId } : {}) })).find((e) => e.details?.event === event);
    if (found || Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
