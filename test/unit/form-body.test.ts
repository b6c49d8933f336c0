import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { readSubmission } from '../../src/http/form-body.js';
import { bodyEcho } from '../support/body-echo.js';

let echo: Awaited<ReturnType<typeof bodyEcho>>;
let url: string;
before(async () => {
  echo = await bodyEcho(async (ctx) => {
    const input = await readSubmission(ctx, ctx.path === '/uploads' ? { maxBytes: 4096, maxFiles: 2 } : undefined);
    return { fields: input.fields, files: input.files.map((f) => ({ field: f.field, filename: f.filename, contentType: f.contentType, bytes: [...f.data] })) };
  });
  url = echo.url;
});
after(() => echo.close());

function multipart(files: number, size = 3) {
  const body = new FormData();
  body.append('csrf', 'token');
  for (let i = 0; i < files; i++) body.append('frame', new Blob([Buffer.alloc(size, i + 1)], { type: 'image/jpeg' }), `f${i}.jpg`);
  return body;
}

test('a step that takes uploads gets its text fields and files', async () => {
  const res = await fetch(`${url}/uploads`, { method: 'POST', body: multipart(2) });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {
    fields: { csrf: 'token' },
    files: [1, 2].map((n, i) => ({ field: 'frame', filename: `f${i}.jpg`, contentType: 'image/jpeg', bytes: [n, n, n] })),
  });
});

test('plain forms still work on a step that takes uploads', async () => {
  const res = await fetch(`${url}/uploads`, { method: 'POST', body: new URLSearchParams({ a: '1' }) });
  assert.deepEqual(await res.json(), { fields: { a: '1' }, files: [] });
});

test('limits: too many files, too many bytes, and multipart where only forms are taken', async () => {
  assert.equal((await fetch(`${url}/uploads`, { method: 'POST', body: multipart(3) })).status, 413);
  assert.equal((await fetch(`${url}/uploads`, { method: 'POST', body: multipart(1, 5000) })).status, 413);
  assert.equal((await fetch(`${url}/plain`, { method: 'POST', body: multipart(1) })).status, 415);
});

test('a malformed multipart body is a 400, not a crash', async () => {
  const res = await fetch(`${url}/uploads`, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=zz' }, body: 'not multipart at all' });
  assert.equal(res.status, 400);
  assert.match(((await res.json()) as { error: string }).error, /not valid multipart/);
});

test('a repeated text field is refused', async () => {
  const body = multipart(0);
  body.append('csrf', 'again');
  assert.equal((await fetch(`${url}/uploads`, { method: 'POST', body })).status, 400);
});

test('a file input left empty (a part with filename="" and no bytes, as browsers send it) is not a file', async () => {
  const part = (headers: string, content: string) => `--zz\r\n${headers}\r\n\r\n${content}\r\n`;
  const body =
    part('Content-Disposition: form-data; name="csrf"', 'token') +
    part('Content-Disposition: form-data; name="recording"; filename=""\r\nContent-Type: application/octet-stream', '') +
    '--zz--\r\n';
  const res = await fetch(`${url}/uploads`, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=zz' }, body });
  assert.deepEqual(await res.json(), { fields: { csrf: 'token' }, files: [] });
});
