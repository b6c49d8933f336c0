import type { Context } from 'koa';
import type { StepInput, UploadLimits } from '../steps/step.js';

export const FORM_LIMIT_BYTES = 16 * 1024;

/**
 * Every refusal while a body is read carries a stable `reason` code beside its readable message,
 * so the audit trail can say why without parsing messages (see refused-submissions.ts).
 */
export type BodyRefusal = Error & { status: number; reason: string };

export function isBodyRefusal(err: unknown): err is BodyRefusal {
  const e = err as Partial<BodyRefusal> | null;
  return typeof e?.status === 'number' && typeof e.reason === 'string';
}

/** Throws the 4xx for a body that cannot be taken, with its reason code. */
export function refuseBody(ctx: Context, status: number, reason: string, message: string): never {
  return ctx.throw(status, message, { reason });
}

/** Reads the raw body, refusing (413, reason `<what>_too_large`) as soon as it passes `limit`. */
export async function readBody(ctx: Context, limit: number, what: string): Promise<Buffer> {
  const tooLarge = () => refuseBody(ctx, 413, `${what}_too_large`, `${what} too large (limit ${limit} bytes)`);
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

// A repeated field is ambiguous; refuse it rather than pick one.
function addField(ctx: Context, form: Record<string, string>, key: string, value: string) {
  if (key in form) refuseBody(ctx, 400, 'repeated_field', `field ${key} given more than once`);
  form[key] = value;
}

/** Reads an application/x-www-form-urlencoded body with a hard size limit. */
export async function readForm(ctx: Context, limit = FORM_LIMIT_BYTES): Promise<Record<string, string>> {
  if (!ctx.is('application/x-www-form-urlencoded')) refuseBody(ctx, 415, 'wrong_content_type', 'expected a form submission (application/x-www-form-urlencoded)');
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
  if (!uploads) return { fields: await readForm(ctx), files: [] };
  if (!ctx.is('multipart/form-data', 'application/x-www-form-urlencoded')) {
    refuseBody(ctx, 415, 'wrong_content_type', 'expected a form submission with files (multipart/form-data) or a plain form (application/x-www-form-urlencoded)');
  }
  if (!ctx.is('multipart/form-data')) return { fields: await readForm(ctx), files: [] };
  const body = await readBody(ctx, uploads.maxBytes, 'upload');
  let parsed: FormData;
  try {
    parsed = await new Response(body, { headers: { 'content-type': ctx.get('content-type') } }).formData();
  } catch {
    return refuseBody(ctx, 400, 'malformed_multipart', 'the upload is not valid multipart/form-data');
  }
  const input: StepInput = { fields: {}, files: [] };
  let textBytes = 0;
  for (const [key, value] of parsed) {
    if (typeof value === 'string') {
      textBytes += key.length + value.length;
      if (textBytes > FORM_LIMIT_BYTES) refuseBody(ctx, 413, 'fields_too_large', 'form fields too large');
      addField(ctx, input.fields, key, value);
      continue;
    }
    // A file input left empty still sends a part, with no name and no bytes.
    if (!value.name && value.size === 0) continue;
    if (input.files.length >= uploads.maxFiles) refuseBody(ctx, 413, 'too_many_files', `too many files (limit ${uploads.maxFiles})`);
    input.files.push({ field: key, filename: value.name || undefined, contentType: value.type || 'application/octet-stream', data: Buffer.from(await value.arrayBuffer()) });
  }
  return input;
}
