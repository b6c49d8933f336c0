import type { Context } from 'koa';

export const FORM_LIMIT_BYTES = 16 * 1024;

/** Reads an application/x-www-form-urlencoded body with a hard size limit. */
export async function readForm(ctx: Context, limit = FORM_LIMIT_BYTES): Promise<Record<string, string>> {
  if (!ctx.is('application/x-www-form-urlencoded')) ctx.throw(415, 'expected a form submission (application/x-www-form-urlencoded)');
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) ctx.throw(413, 'form too large');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) ctx.throw(413, 'form too large');
    chunks.push(chunk);
  }
  const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  const form: Record<string, string> = {};
  for (const [key, value] of params) {
    // A repeated field is ambiguous; refuse it rather than pick one.
    if (key in form) ctx.throw(400, `field ${key} given more than once`);
    form[key] = value;
  }
  return form;
}
