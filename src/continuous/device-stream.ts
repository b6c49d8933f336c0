// The reference device side of continuous authentication (`tessera neural send --stream`, and the
// tests): exchange the continuation for a stream token, open the stream, send a recording in
// frames of one second and read the server's answers.
import { WebSocket } from 'ws';
import type { Recording } from '../biometrics/neural/recording.js';
import { encodeFrame } from './stream-protocol.js';

/** The server's answer to one frame. */
export interface ConfidenceEvent {
  type: 'confidence';
  sequence: number;
  confidence: number;
  windows: number;
  floor: number;
}

export interface Closed {
  code: number;
  reason: string;
}

export class StreamClientError extends Error {
  override name = 'StreamClientError';
}

/**
 * The stream token for a continuation; while the sign-in is still under way the server says
 * `authorization_pending` and this polls (every `interval` seconds) until `timeoutMs`.
 */
export async function exchangeContinuation(issuer: string, continuation: string, timeoutMs = 300_000): Promise<{ token: string; streamUrl: string }> {
  const deadline = Date.now() + timeoutMs;
  const url = new URL('continuous/token', issuer.endsWith('/') ? issuer : `${issuer}/`);
  for (;;) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ continuation }) });
    const body = (await res.json().catch(() => ({}))) as { token?: string; stream_url?: string; error?: string; error_description?: string; interval?: number };
    if (res.ok && body.token && body.stream_url) return { token: body.token, streamUrl: body.stream_url };
    if (body.error !== 'authorization_pending') throw new StreamClientError(`no stream token (${res.status} ${body.error ?? ''}): ${body.error_description ?? res.statusText}`);
    if (Date.now() > deadline) throw new StreamClientError('the sign-in did not finish in time');
    await new Promise((resolve) => setTimeout(resolve, (body.interval ?? 1) * 1000));
  }
}

/** One open stream; frames are answered one by one, in order. */
export class DeviceStream {
  private readonly answers: ((answer: ConfidenceEvent | Closed) => void)[] = [];
  private readonly backlog: (ConfidenceEvent | Closed)[] = [];
  /** Set once the server (or this side) has closed the stream. */
  closed: Closed | undefined;
  private sequence = 0;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (!isBinary) this.deliver(JSON.parse(data.toString()) as ConfidenceEvent);
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.deliver(this.closed);
      while (this.answers.length) this.answers.shift()!(this.closed);
    });
  }

  static connect(streamUrl: string, token: string): Promise<DeviceStream> {
    const ws = new WebSocket(streamUrl, { headers: { authorization: `Bearer ${token}` } });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new DeviceStream(ws)));
      ws.once('error', (err) => reject(new StreamClientError(`cannot open the stream: ${err.message}`)));
    });
  }

  private deliver(answer: ConfidenceEvent | Closed): void {
    const waiting = this.answers.shift();
    if (waiting) waiting(answer);
    else this.backlog.push(answer);
  }

  /** The next answer (or the close, once closed). */
  next(): Promise<ConfidenceEvent | Closed> {
    const ready = this.backlog.shift();
    if (ready) return Promise.resolve(ready);
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve) => this.answers.push(resolve));
  }

  /** Any message as is: the hello, or (misbehaving on purpose) anything else. */
  sendRaw(data: string | Uint8Array): void {
    this.ws.send(data);
  }

  hello(recording: Pick<Recording, 'sampleRate' | 'channels'>): void {
    this.ws.send(JSON.stringify({ type: 'hello', sampleRate: recording.sampleRate, channels: recording.channels.map((c) => c.label) }));
  }

  /** Sends seconds [from, from + 1) of the recording as the next frame. */
  sendSecond(recording: Pick<Recording, 'sampleRate' | 'channels'>, from: number): void {
    const start = Math.round(from * recording.sampleRate);
    const end = start + recording.sampleRate;
    this.ws.send(encodeFrame(this.sequence++, recording.channels.map((c) => c.samples.subarray(start, end))));
  }

  close(): void {
    this.ws.close(1000, 'done');
  }
}

/**
 * Streams seconds [from, to) of a recording one frame per second, each sent when the previous one
 * is answered (at most real time when `realTime`); stops at the first close, which it returns.
 */
export async function streamSeconds(stream: DeviceStream, recording: Pick<Recording, 'sampleRate' | 'channels'>, from: number, to: number, opts: { realTime?: boolean; onAnswer?: (answer: ConfidenceEvent, second: number) => void } = {}): Promise<Closed | undefined> {
  for (let second = from; second + 1 <= to; second++) {
    const started = Date.now();
    stream.sendSecond(recording, second);
    const answer = await stream.next();
    if (!('type' in answer)) return answer;
    opts.onAnswer?.(answer, second);
    if (opts.realTime) await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1000 - (Date.now() - started))));
  }
  return stream.closed;
}
