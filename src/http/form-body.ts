import type { Context } from 'koa';
import type { StepInput, UploadLimits } from '../steps/step.js';

export const FORM_LIMIT_BYTES = 16 * 1024;

/** Reads the raw body, refusing (413) as soon as it passes `limit`. */
export async function readBody(ctx: Context, limit: number, what: string): Promise<Buffer> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) ctx.throw(413, `${what} too large (limit ${limit} bytes)`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) ctx.throw(413, `${what} too large (limit ${limit} bytes)`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

// A repeated field is ambiguous; refuse it rather than pick one.
function addField(ctx: Context, form: Record<string, string>, key: string, value: string) {
  if (key in form) ctx.throw(400, `field ${key} given more than once`);
  form[key] = value;
}

/** Reads an application/x-www-form-urlencoded body with a hard size limit. */
export async function readForm(ctx: Context, limit = FORM_LIMIT_BYTES): Promise<Record<string, string>> {
  if (!ctx.is('application/x-www-form-urlencoded')) ctx.throw(415, 'expected a form submission (application/x-www-form-urlencoded)');
  const params = new URLSearchParams((await readBody(ctx, limit, 'form')).toString('utf8'));
  const form: Record<string, string> = {};
  for (const [key, value] of params) addField(ctx, form, key, value);
  return form;
}

/**
 * Reads a step submission: a plain form, or (when the step takes uploads) multipart/form-data
 * within the step's byte and file-count limits. Text fields stay within the plain form limit.
 */
export async function readSubmission(ctx: Context, uploads?: UploadLimits): Promise<StepInput> {
  if (!uploads || !ctx.is('multipart/form-data')) return { fields: await readForm(ctx), files: [] };
  const body = await readBody(ctx, uploads.maxBytes, 'upload');
  let parsed: FormData;
  try {
    parsed = await new Response(body, { headers: { 'content-type': ctx.get('content-type') } }).formData();
  } catch {
    return ctx.throw(400, 'the upload is not valid multipart/form-data');
  }
  const input: StepInput = { fields: {}, files: [] };
  let textBytes = 0;
  for (const [key, value] of parsed) {
    if (typeof value === 'string') {
      textBytes += key.length + value.length;
      if (textBytes > FORM_LIMIT_BYTES) ctx.throw(413, 'form fields too large');
      addField(ctx, input.fields, key, value);
      continue;
    }
    // A file input left empty still sends a part, with no name and no bytes.
    if (!value.name && value.size === 0) continue;
    if (input.files.length >= uploads.maxFiles) ctx.throw(413, `too many files (limit ${uploads.maxFiles})`);
    input.files.push({ field: key, filename: value.name || undefined, contentType: value.type || 'application/octet-stream', data: Buffer.from(await value.arrayBuffer()) });
  }
  return input;
}
