import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { AccountService } from '../accounts/accounts.js';
import type { Logger } from '../log.js';
import type { Storage } from '../oidc/adapter.js';
import type { MissLimiter } from '../security/miss-limiter.js';
import type { StepRegistry } from '../steps/registry.js';
import { DEFAULT_CONTINUOUS_POLICY, type ContinuousPolicy } from './continuous-policy.js';
import type { ContinuousVerifier } from './continuous-verifier.js';
import type { MonitoredSession } from './monitored-sessions.js';
import { SYNC_INTERVAL_MS, type SessionMonitor } from './session-monitor.js';
import type { StreamCredentials } from './stream-credentials.js';
import { isRefusal, MAX_FRAME_SECONDS, refusal, type Refusal } from './stream-protocol.js';

const STREAM_PATH = /^\/continuous\/sessions\/([A-Za-z0-9_-]{1,64})\/stream$/;
// The largest frame the protocol allows (MAX_FRAME_SECONDS of 64 channels at 2 kHz) with room for its header.
const MAX_MESSAGE_BYTES = MAX_FRAME_SECONDS * 64 * 2048 * 4 + 1024;
// The hello must follow the connection promptly; a socket that says nothing holds nothing for long.
const HELLO_SECONDS = 10;
// How often a stream checks that its provider session still exists (signed out elsewhere, say).
const SESSION_CHECK_MS = 5_000;

export interface StreamServerDeps {
  credentials: StreamCredentials;
  monitor: SessionMonitor;
  misses: MissLimiter;
  steps: StepRegistry;
  accounts: AccountService;
  storage: Storage;
  log: Logger;
}

/** The path of a session's stream (what the token answer calls `stream_url`, after the issuer's origin). */
export const streamPath = (sessionUid: string) => `/continuous/sessions/${sessionUid}/stream`;

/**
 * WebSocket endpoint of continuous authentication: `<issuer>/continuous/sessions/<uid>/stream`,
 * authenticated by a stream token (`Authorization: Bearer …`). One stream per session per
 * process. Bad input closes the stream with its code (stream-protocol.ts) and ends nothing; the
 * session ends only for what its stream says about the person (low confidence, unusable signal)
 * or for silence. Every frame restarts the silence clock and is answered with the running
 * confidence, `{"type":"confidence","sequence":n,"confidence":…,"windows":…,"floor":…}`.
 */
export class StreamServer {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  private readonly open = new Map<string, WebSocket>();

  constructor(private readonly deps: StreamServerDeps) {}

  /** Takes the upgrades of stream paths on this HTTP server; any other upgrade is refused. */
  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const match = STREAM_PATH.exec(new URL(req.url ?? '/', 'http://x').pathname);
      if (!match) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        // Messages may arrive while the token is checked: held until the stream is set up (or dropped with the socket).
        const early: { data: RawData; isBinary: boolean }[] = [];
        const hold = (data: RawData, isBinary: boolean) => early.push({ data, isBinary });
        ws.on('message', hold);
        this.serve(ws, req, match[1]!)
          .then((stream) => {
            ws.off('message', hold);
            stream?.start(early);
          })
          .catch((err: Error) => {
            this.deps.log.error({ err }, 'continuous stream failed');
            ws.close(1011, 'internal error');
          });
      });
    });
  }

  /** Closes every stream of this process (shutdown); their sessions stay, watched for silence by any process. */
  close(): void {
    for (const ws of this.open.values()) ws.close(1001, 'server shutting down');
    this.open.clear();
    this.wss.close();
  }

  /** The stream for an authorised socket; undefined when it was refused (and closed with the reason). */
  private async serve(ws: WebSocket, req: IncomingMessage, sessionUid: string): Promise<SessionStream | undefined> {
    const ip = req.socket.remoteAddress ?? '';
    const shut = (why: Refusal) => void ws.close(why.code, why.reason);
    const wait = await this.deps.misses.retryAfter(ip);
    if (wait) return shut(refusal('too_many_streams', `too many bad stream tokens from this address; retry in ${wait} s`));
    const bearer = /^Bearer ([A-Za-z0-9_-]{20,128})$/.exec(req.headers.authorization ?? '')?.[1];
    const token = bearer ? await this.deps.credentials.redeem(bearer) : undefined;
    if (!token) {
      await this.deps.misses.miss(ip);
      return shut(refusal('unauthorised', 'no valid stream token: get one from /continuous/token'));
    }
    // A token for another session (or another device's) opens nothing and ends nothing.
    if (token.sessionUid !== sessionUid) return shut(refusal('wrong_session', 'this token was issued for another session'));
    const session = await this.deps.monitor.live(sessionUid);
    if (!session) return shut(refusal('session_over', 'this session has ended'));
    if (session.continuationId !== token.continuationId) return shut(refusal('wrong_session', 'this token was issued to another device'));
    if (this.open.has(sessionUid)) return shut(refusal('too_many_streams', 'this session already has a stream'));
    this.open.set(sessionUid, ws);
    ws.once('close', () => {
      if (this.open.get(sessionUid) === ws) this.open.delete(sessionUid);
    });
    return new SessionStream(ws, session, this.deps);
  }
}

/** One open stream: the hello, then every frame through the step's verifier into the shared session record. */
class SessionStream {
  private verifier: ContinuousVerifier | undefined;
  private queue: Promise<void> = Promise.resolve();
  private silence: NodeJS.Timeout | undefined;
  // When this stream last compared notes with the shared record (wall clock, and stream seconds), and checked its provider session.
  private syncedAt = 0;
  private syncedStreamSeconds = 0;
  private checkedAt = Date.now();
  private closed = false;
  private frames = 0;

  constructor(
    private readonly ws: WebSocket,
    private session: MonitoredSession,
    private readonly deps: StreamServerDeps,
  ) {}

  /** Starts with the messages that arrived while the token was checked. */
  start(early: readonly { data: RawData; isBinary: boolean }[]): void {
    this.armSilence(HELLO_SECONDS);
    const receive = (data: RawData, isBinary: boolean) => {
      const message = isBinary ? toBytes(data) : toBytes(data).toString('utf8');
      this.queue = this.queue.then(() => this.handle(message)).catch((err: Error) => {
        this.deps.log.error({ err, session: this.session.sessionUid }, 'continuous stream message failed');
        this.shut(refusal('session_over', 'internal error'), 1011);
      });
    };
    for (const { data, isBinary } of early) receive(data, isBinary);
    this.ws.on('message', receive);
    this.ws.on('close', () => {
      const ended = this.closed;
      this.closed = true;
      clearTimeout(this.silence);
      // The device went away: the shared record gets its last news, and silence is timed from there by the monitor.
      void this.queue
        .then(async () => {
          if (!ended && this.verifier) await this.sync();
          await this.verifier?.close();
        })
        .catch((err: Error) => this.deps.log.error({ err, session: this.session.sessionUid }, 'continuous stream close failed'));
    });
  }

  private get policy(): ContinuousPolicy {
    return { ...DEFAULT_CONTINUOUS_POLICY, ...this.session.settings };
  }

  private armSilence(seconds: number): void {
    clearTimeout(this.silence);
    this.silence = setTimeout(() => {
      this.queue = this.queue.then(() => this.silent());
    }, seconds * 1000);
    this.silence.unref();
  }

  private async silent(): Promise<void> {
    if (this.closed) return;
    await this.deps.monitor.end(this.session, 'silent', { silent_seconds: this.policy.silenceSeconds });
    this.shut(refusal('silent', `nothing arrived for ${this.policy.silenceSeconds} s; the session has ended`));
  }

  private shut(why: Refusal, code: number = why.code): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.silence);
    this.ws.close(code, why.reason);
  }

  private async handle(message: Buffer | string): Promise<void> {
    if (this.closed) return;
    if (!(await this.stillOn())) return this.shut(refusal('session_over', 'this session has ended'));
    if (!this.verifier) return this.hello(message);
    const result = await this.verifier.push(message);
    // Bad input closes the stream; the session waits, as it would for a reconnecting device.
    if (isRefusal(result)) return this.shut(result);
    const sequence = this.frames++;
    const last = result.verdicts.at(-1);
    this.session = {
      ...this.session,
      state: 'streaming',
      lastSeenAt: Date.now(),
      ...(last ? { confidence: last.confidence, windows: this.session.windows + result.verdicts.length } : {}),
    };
    this.armSilence(this.policy.silenceSeconds);
    if (result.end) {
      await this.deps.monitor.end(this.session, result.end, { stream_seconds: Math.round(this.verifier.streamSeconds) });
      return this.shut(refusal(result.end, result.end === 'low_confidence' ? 'the signal no longer matches the enrolled person; the session has ended' : 'the signal has been unusable for too long; the session has ended'));
    }
    if (this.syncDue()) await this.sync();
    // Every frame is answered, so a device knows what has been judged (and may pace itself on it).
    this.ws.send(JSON.stringify({ type: 'confidence', sequence, confidence: round(this.session.confidence), windows: this.session.windows, floor: this.policy.floor }));
  }

  // Every SYNC_INTERVAL_MS of wall clock or of signal, whichever comes first (a device may send faster than real time).
  private syncDue(): boolean {
    const streamed = (this.verifier?.streamSeconds ?? 0) - this.syncedStreamSeconds;
    return Date.now() - this.syncedAt >= SYNC_INTERVAL_MS || streamed * 1000 >= SYNC_INTERVAL_MS;
  }

  /** Writes this stream's news to the shared record. */
  private async sync(): Promise<void> {
    this.syncedAt = Date.now();
    this.syncedStreamSeconds = this.verifier?.streamSeconds ?? 0;
    await this.deps.monitor.update(this.session);
  }

  private async hello(message: Buffer | string): Promise<void> {
    if (typeof message !== 'string') return this.shut(refusal('unexpected_frame', 'the first message must be the hello (text)'));
    const account = await this.deps.accounts.findRecent(this.session.accountId);
    const streams = this.deps.steps.get(this.session.step)?.streams;
    if (!account || account.disabled || !streams) return this.shut(refusal('session_over', 'this session can no longer be verified'));
    const opened = await streams.open(account, { hello: message, policy: this.policy, initialLlr: this.session.confidence });
    if (isRefusal(opened)) return this.shut(opened);
    this.verifier = opened;
    this.session = { ...this.session, state: 'streaming', lastSeenAt: Date.now() };
    await this.sync();
    this.armSilence(this.policy.silenceSeconds);
  }

  /**
   * Whether the session is still on: ended elsewhere (another process, the account console) or its
   * provider session gone (signed out), at most SYNC_INTERVAL_MS (resp. SESSION_CHECK_MS) ago.
   */
  private async stillOn(): Promise<boolean> {
    if (this.syncDue() && !(await this.deps.monitor.live(this.session.sessionUid))) return false;
    if (Date.now() - this.checkedAt < SESSION_CHECK_MS) return true;
    this.checkedAt = Date.now();
    return Boolean(await this.deps.storage.sessionByUid(this.session.sessionUid));
  }
}

const toBytes = (data: RawData): Buffer => (Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data));
const round = (x: number) => Math.round(x * 1000) / 1000;
