// Refusals while a step submission's body is read, through the real audit log and rate counter:
// each has its reason code in the audit trail, the answer is unchanged, and one address cannot
// write more than the cap of such events per window.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../config/load.js';
import { RefusedSubmissions } from '../../src/security/refused-submissions.js';
import { openServices, type Services } from '../../src/services.js';
import { sqliteBackend, type Backend } from '../support/backends.js';
import { bodyEcho } from '../support/body-echo.js';

const warnings: Record<string, unknown>[] = [];
let backend: Backend;
let s: Services;
let echo: Awaited<ReturnType<typeof bodyEcho>>;
let url: string;

before(async () => {
  backend = await sqliteBackend();
  s = await openServices(loadConfig({ ...backend.env, TESSERA_MASTER_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: 'silent' }), pino({ level: 'silent' }));
  const log = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line)) });
  const refusals = new RefusedSubmissions(s.audit, s.rateCounter, log);
  // Behind a "proxy", so each test can post from its own address.
  echo = await bodyEcho(async (ctx) => {
    const input = await refusals.read(ctx, { step: 'face', subject: 'acct-1', clientId: 'app' }, { maxBytes: 4096, maxFiles: 2 });
    return { fields: input.fields, files: input.files.length };
  }, { proxy: true });
  url = echo.url;
});
after(async () => {
  echo.close();
  await s.close();
  await backend.dispose();
});

const from = (ip: string, init: RequestInit) => fetch(url, { method: 'POST', ...init, headers: { 'x-forwarded-for': ip, ...(init.headers as Record<string, string>) } });
const eventsFrom = async (ip: string) => (await s.audit.query({ type: 'submission.refused', limit: 100 })).filter((e) => e.ip === ip);

function multipart(files: number, size = 3) {
  const body = new FormData();
  body.append('csrf', 'token');
  for (let i = 0; i < files; i++) body.append('frame', new Blob([Buffer.alloc(size, i + 1)], { type: 'image/jpeg' }), `f${i}.jpg`);
  return body;
}

describe('a step submission refused while its body is read', () => {
  test('is answered as before and audited with the step, the status and the reason', async () => {
    const ip = '192.0.2.1';
    const repeated = multipart(0);
    repeated.append('csrf', 'again');
    const cases: [string, RequestInit, number, RegExp, string][] = [
      ['JSON', { headers: { 'content-type': 'application/json' }, body: '{"frame":"x"}' }, 415, /expected a form submission with files/, 'wrong_content_type'],
      ['too many bytes', { body: multipart(1, 5000) }, 413, /upload too large \(limit 4096 bytes\)/, 'upload_too_large'],
      ['a plain form too large', { body: new URLSearchParams({ a: 'x'.repeat(17 * 1024) }) }, 413, /form too large/, 'form_too_large'],
      ['malformed multipart', { headers: { 'content-type': 'multipart/form-data; boundary=zz' }, body: 'not multipart at all' }, 400, /not valid multipart/, 'malformed_multipart'],
      ['too many files', { body: multipart(3) }, 413, /too many files \(limit 2\)/, 'too_many_files'],
      ['a repeated field', { body: repeated }, 400, /given more than once/, 'repeated_field'],
    ];
    for (const [what, init, status, message] of cases) {
      const res = await from(ip, { ...init, headers: { ...(init.headers as Record<string, string>), 'user-agent': 'test-agent' } });
      assert.equal(res.status, status, what);
      assert.match(((await res.json()) as { error: string }).error, message, what);
    }
    assert.equal((await from(ip, { body: multipart(1) })).status, 200, 'a good submission');
    const events = (await eventsFrom(ip)).reverse();
    assert.deepEqual(
      events.map((e) => e.details),
      cases.map(([, , status, , reason]) => ({ step: 'face', status, reason })),
    );
    for (const e of events) assert.deepEqual([e.outcome, e.subject, e.clientId, e.userAgent], ['failure', 'acct-1', 'app', 'test-agent']);
  });

  test('one address gets at most 30 such events per window, then a single warning; others are still audited', async () => {
    const flood = '192.0.2.2';
    const refuse = (ip: string) => from(ip, { headers: { 'content-type': 'text/plain' }, body: 'x' });
    for (let i = 0; i < 35; i++) assert.equal((await refuse(flood)).status, 415);
    assert.equal((await eventsFrom(flood)).length, 30);
    const capped = warnings.filter((w) => /no longer audited/.test(String(w.msg)));
    assert.equal(capped.length, 1);
    assert.equal(capped[0]!.step, 'face');
    assert.equal((await refuse('192.0.2.3')).status, 415);
    assert.equal((await eventsFrom('192.0.2.3')).length, 1);
  });
});
