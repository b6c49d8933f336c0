// Load generator for bench/continuous-server.ts, in its own process: N headsets, each with its own
// WebSocket to the server, sending the hello and then one 1 s frame of real eegmat signal per
// second of wall clock. Arguments: streamsFile seconds. The streams file is JSON
// [{ streamUrl, token, subject }]. Prints one JSON line: frames sent and answered, closes by code.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { montages, selectMontage } from '../src/biometrics/neural/montage.js';
import { DeviceStream } from '../src/continuous/device-stream.js';
import { encodeFrame } from '../src/continuous/stream-protocol.js';
import { loadEdf, sharedEegDir } from '../scripts/neural/dataset.js';

interface Target {
  streamUrl: string;
  token: string;
  subject: number;
}

const [streamsFile, secondsArg] = process.argv.slice(2);
const targets = JSON.parse(readFileSync(streamsFile!, 'utf8')) as Target[];
const seconds = Number(secondsArg);
// Resting signal after the enrolment minute and the sign-in probe: what the headset keeps sending.
const FIRST_SECOND = 70;
const FRAMES = 100;

const signal = new Map<number, { hello: string; frames: Float32Array[][] }>();
for (const subject of new Set(targets.map((t) => t.subject))) {
  const rest = selectMontage(await loadEdf(`${sharedEegDir()}/Subject${String(subject).padStart(2, '0')}_1.edf`), montages.clinical19);
  const frames = Array.from({ length: FRAMES }, (_, i) => rest.channels.map((c) => Float32Array.from(c.samples.subarray((FIRST_SECOND + i) * 500, (FIRST_SECOND + i + 1) * 500))));
  signal.set(subject, { hello: JSON.stringify({ type: 'hello', sampleRate: rest.sampleRate, channels: rest.channels.map((c) => c.label) }), frames });
}

let sent = 0;
let answered = 0;
const closes = new Map<number, number>();

async function headset(target: Target, offsetMs: number): Promise<void> {
  await sleep(offsetMs);
  const { hello, frames } = signal.get(target.subject)!;
  const stream = await DeviceStream.connect(target.streamUrl, target.token);
  stream.sendRaw(hello);
  const started = Date.now();
  for (let i = 0; Date.now() - started < seconds * 1000; i++) {
    if (stream.closed) break;
    stream.sendRaw(encodeFrame(i, frames[i % FRAMES]!));
    sent++;
    const answer = await stream.next();
    if (!('type' in answer)) break;
    answered++;
    // One frame per second of wall clock, whatever the answer took.
    await sleep(Math.max(0, started + (i + 1) * 1000 - Date.now()));
  }
  const closed = stream.closed;
  if (closed) closes.set(closed.code, (closes.get(closed.code) ?? 0) + 1);
  else stream.close();
}

// Headsets start spread over one second, as independent devices would.
await Promise.all(targets.map((t, i) => headset(t, (i / targets.length) * 1000)));
process.stdout.write(`${JSON.stringify({ streams: targets.length, sent, answered, closedByServer: Object.fromEntries(closes) })}\n`);
