import { readFile } from 'node:fs/promises';
import { loadConfig } from '../../config/load.js';
import { NeuralInputError } from '../biometrics/neural/errors.js';
import { durationSeconds, type Recording } from '../biometrics/neural/recording.js';
import { DeviceStream, exchangeContinuation, StreamClientError, streamSeconds } from '../continuous/device-stream.js';
import { isCodeShaped, normaliseCode } from '../interaction/device-capture.js';
import { decodeUpload } from '../steps/neural/upload.js';
import { parse, required, UsageError } from './args.js';
import { print } from './output.js';

const USAGE = `usage: tessera neural send --code CODE --file RECORDING [--issuer URL] [--json]
                           [--stream RECORDING [--from SECONDS] [--fast]]

  Sends an EEG recording (EDF/EDF+, or the JSON or binary samples format) to the sign-in or
  enrollment page showing CODE. The recording is checked here first with the server's rules.
  --issuer defaults to ISSUER (or http://localhost:$PORT).
  --stream: once the sign-in is done, keep the session verified (a flow with continuous
  monitoring): the recording is streamed one second per second (--fast: as fast as the server
  answers) from --from seconds, printing the running confidence. Exit 1 if the server ends the
  session or refuses the stream.`;

/** A recording or a delivery the server (or the local check) refused; exit status 1. */
export class CaptureError extends Error {
  override name = 'CaptureError';
}

/** The reference device client: what a headset's companion app does with a capture code. */
export async function neuralCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== 'send') throw new UsageError(USAGE);
  const { values } = parse(rest, { code: { type: 'string' }, file: { type: 'string' }, issuer: { type: 'string' }, stream: { type: 'string' }, from: { type: 'string' }, fast: { type: 'boolean' } });
  const from = values.from === undefined ? 0 : Number(values.from);
  if (!(Number.isInteger(from) && from >= 0)) throw new UsageError('--from: expected whole seconds (0 or more)');
  if (!values.stream && (values.from !== undefined || values.fast)) throw new UsageError('--from and --fast go with --stream');
  const code = normaliseCode(required(values.code, '--code'));
  if (!isCodeShaped(code)) throw new UsageError('--code: expected the 8-character code shown on the page (like ABCD-EFGH)');
  const path = required(values.file, '--file');
  const issuer = values.issuer ?? loadConfig().issuer;
  if (!URL.canParse(issuer)) throw new UsageError(`--issuer: not an absolute URL: ${issuer}`);

  const { data, seconds } = await readRecording(path);
  const streamed = values.stream ? await readRecording(values.stream) : undefined;

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
  const body = (await res.json().catch(() => ({}))) as { error_description?: string; bytes?: number; continuation?: string };
  if (res.status !== 202) throw new CaptureError(`the server refused the recording (${res.status}): ${body.error_description ?? res.statusText}`);
  // With --stream, --json output is one JSON object per line (a stream of answers).
  const say = streamed ? line : print;
  say(values.json ?? false, { status: 'received', bytes: body.bytes, seconds: Math.round(seconds * 10) / 10 }, () => [
    [`sent ${path} (${Math.round(seconds)} s, ${body.bytes} bytes); the page continues by itself`],
  ]);
  if (!streamed) return;
  if (!body.continuation) throw new CaptureError('this page does not take a stream (only a sign-in page of the brain-signal step does)');
  await stream(issuer, body.continuation, streamed.recording, from, values.fast ?? false, values.json ?? false);
}

async function readRecording(path: string): Promise<{ data: Buffer; recording: Recording; seconds: number }> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (err) {
    throw new CaptureError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const recording = decodeUpload(data);
    return { data, recording, seconds: durationSeconds(recording) };
  } catch (err) {
    if (err instanceof NeuralInputError) throw new CaptureError(`${path} cannot be used: ${err.message} (${err.code})`);
    throw err;
  }
}

/** Like print, but JSON as one line. */
function line(json: boolean, data: unknown, rows: () => string[][]): void {
  if (json) process.stdout.write(`${JSON.stringify(data)}\n`);
  else print(false, data, rows);
}

/** Waits for the sign-in, then streams the recording and prints the server's answers. */
async function stream(issuer: string, continuation: string, recording: Recording, from: number, fast: boolean, json: boolean): Promise<void> {
  try {
    const { token, streamUrl } = await exchangeContinuation(issuer, continuation);
    const device = await DeviceStream.connect(streamUrl, token);
    device.hello(recording);
    const closed = await streamSeconds(device, recording, from, durationSeconds(recording), {
      realTime: !fast,
      onAnswer: (answer, second) => line(json, answer, () => [[`${second + 1} s`, `confidence ${answer.confidence}`, `floor ${answer.floor}`, `${answer.windows} windows`]]),
    });
    if (closed) throw new CaptureError(`the server closed the stream (${closed.code}): ${closed.reason}`);
    device.close();
    line(json, { status: 'streamed' }, () => [['the recording has been streamed; the session stays signed in while the stream goes on']]);
  } catch (err) {
    if (err instanceof StreamClientError) throw new CaptureError(err.message);
    throw err;
  }
}
