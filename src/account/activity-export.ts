import type Router from '@koa/router';
import type { AuditLog, StoredAuditEvent } from '../security/audit-log.js';
import type { AccountConsole } from './console.js';

const PAGE_SIZE = 1000;
// The newest events; enough for any person's history, bounded for the server.
const MAX_EVENTS = 10_000;
const COLUMNS = ['id', 'at', 'type', 'outcome', 'client_id', 'ip', 'user_agent', 'details'] as const;

async function historyOf(audit: AuditLog, subject: string): Promise<StoredAuditEvent[]> {
  const events: StoredAuditEvent[] = [];
  let beforeId: number | undefined;
  while (events.length < MAX_EVENTS) {
    const page = await audit.query({ subject, beforeId, limit: Math.min(PAGE_SIZE, MAX_EVENTS - events.length) });
    events.push(...page);
    if (page.length < PAGE_SIZE) break;
    beforeId = page.at(-1)!.id;
  }
  return events;
}

const row = (e: StoredAuditEvent) => ({
  id: e.id,
  at: new Date(e.at).toISOString(),
  type: e.type,
  outcome: e.outcome,
  client_id: e.clientId ?? null,
  ip: e.ip ?? null,
  user_agent: e.userAgent ?? null,
  details: e.details ?? null,
});

/** One CSV cell: quoted, and never read as a formula by a spreadsheet. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'string' ? value : typeof value === 'number' ? String(value) : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return `"${text.replace(/"/g, '""')}"`;
}

/** The account's own audit trail as a download (JSON or CSV), newest first. */
export function activityRoutes(router: Router, kit: AccountConsole, audit: AuditLog): void {
  router.get('/activity.:format', kit.signedIn, async (ctx) => {
    const format = ctx.params.format;
    if (format !== 'json' && format !== 'csv') return ctx.throw(404, 'Activity can be downloaded as .json or .csv.');
    const { account } = kit.current(ctx);
    const events = (await historyOf(audit, account.id)).map(row);
    await kit.record(ctx, { type: 'account.audit_exported', outcome: 'success', details: { format, events: events.length } });
    const name = `tessera-activity-${account.username.replace(/[^A-Za-z0-9._-]/g, '_')}.${format}`;
    ctx.set('Content-Disposition', `attachment; filename="${name}"`);
    ctx.set('Cache-Control', 'no-store');
    if (format === 'json') {
      ctx.type = 'application/json';
      ctx.body = JSON.stringify({ account: { id: account.id, username: account.username }, exportedAt: new Date().toISOString(), events }, null, 2);
      return;
    }
    ctx.type = 'text/csv; charset=utf-8';
    ctx.body = [COLUMNS.join(','), ...events.map((e) => COLUMNS.map((c) => csvCell(e[c])).join(','))].join('\r\n') + '\r\n';
  });
}
