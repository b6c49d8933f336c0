import { readFile } from 'node:fs/promises';
import { loadConfig } from '../../config/load.js';
import { NeuralInputError } from '../biometrics/neural/errors.js';
import { durationSeconds } from '../biometrics/neural/recording.js';
import { isCodeShaped, normaliseCode } from '../interaction/device-capture.js';
import { decodeUpload } from '../steps/neural/upload.js';
import { parse, required, UsageError } from './args.js';
import { print } from './output.js';

const USAGE = `usage: tessera neural send --code CODE --file RECORDING [--issuer URL] [--json]

  Sends an EEG recording (EDF/EDF+, or the JSON or binary samples format) to the sign-in or
  enrollment page showing CODE. The recording is checked here first with the server's rules.
  --issuer defaults to ISSUER (or http://localhost:$PORT).`;

/** A recording or a delivery the server (or the local check) refused; exit status 1. */
export class CaptureError extends Error {
  override name = 'CaptureError';
}

/** The reference device client: what a headset's companion app does with a capture code. */
export async function neuralCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== 'send') throw new UsageError(USAGE);
  const { values } = parse(rest, { code: { type: 'string' }, file: { type: 'string' }, issuer: { type: 'string' } });
  const code = normaliseCode(required(values.code, '--code'));
  if (!isCodeShaped(code)) throw new UsageError('--code: expected the 8-character code shown on the page (like ABCD-EFGH)');
  const path = required(values.file, '--file');
  const issuer = values.issuer ?? loadConfig().issuer;
  if (!URL.canParse(issuer)) throw new UsageError(`--issuer: not an absolute URL: ${issuer}`);

  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (err) {
    throw new CaptureError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let seconds: number;
  try {
    seconds = durationSeconds(decodeUpload(data));
  } catch (err) {
    if (err instanceof NeuralInputError) throw new CaptureError(`${path} cannot be used: ${err.message} (${err.code})`);
    throw err;
  }

  const url = new URL(`capture/${code}`, issuer.endsWith('/') ? issuer : `${issuer}/`);
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': data[0] === 0x7b ? 'application/json' : 'application/octet-stream', accept: 'application/json' },
      body: data,
    });
  } catch (err) {
    throw new CaptureError(`cannot reach ${url.origin}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`);
  }
  const body = (await res.json().catch(() => ({}))) as { error_description?: string; bytes?: number };
  if (res.status !== 202) throw new CaptureError(`the server refused the recording (${res.status}): ${body.error_description ?? res.statusText}`);
  print(values.json ?? false, { status: 'received', bytes: body.bytes, seconds: Math.round(seconds * 10) / 10 }, () => [
    [`sent ${path} (${Math.round(seconds)} s, ${body.bytes} bytes); the page continues by itself`],
  ]);
}
