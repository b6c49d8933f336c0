// One continuous-verification stream, as the transport drives it: opened with the hello, fed every
// WebSocket message, closed when the socket closes.
import { scoreLlr, type Calibration } from '../biometrics/fusion/index.js';
import { defaultQualityPolicy } from '../biometrics/neural/quality.js';
import { montageByName } from '../biometrics/neural/montage.js';
import { DEFAULT_CONTINUOUS_POLICY, policyProblems, type ContinuousPolicy } from './continuous-policy.js';
import { RunningConfidence, type EndReason } from './running-confidence.js';
import { FrameDecoder, isRefusal, parseHello, refusal, type Hello, type Refusal } from './stream-protocol.js';
import type { ContinuousModel } from './window-model.js';

export interface WindowVerdict {
  /** Stream time (seconds) at which the window ends. */
  readonly endSeconds: number;
  /** Cosine against the template (what `match` returned), for a scored window. */
  readonly score?: number;
  readonly llr?: number;
  /** Running confidence after this window. */
  readonly confidence: number;
  /** The rejection code of an artefact window (e.g. `amplitude_artifact`): no score, confidence unmoved. */
  readonly rejected?: string;
}

export interface PushResult {
  readonly verdicts: WindowVerdict[];
  /** Set once: the session must end (close code CLOSE_CODES[end]). */
  readonly end?: EndReason;
}

export interface ContinuousOpenOptions {
  /** The stream's first message (text), as received. */
  readonly hello: string;
  /** The model of the account's template, shared by all streams of the process. */
  readonly model: ContinuousModel;
  /** Cosine between a window's embedding and the account's template (for a cancelable template, the cosine at the angle it estimates). */
  readonly match: (embedding: Float32Array) => number;
  /** The model's score → LLR line. */
  readonly calibration: Pick<Calibration, 'a' | 'b'>;
  readonly policy?: ContinuousPolicy;
  /** Where confidence starts: the LLR of the sign-in probe the session was opened with. */
  readonly initialLlr: number;
}

/**
 * Verifies every window of one stream against the account's template and keeps the running
 * confidence; says when the session must end. Messages are processed one at a time in arrival
 * order, whatever the caller awaits. After a refusal or an end, every further message is refused
 * (`session_over`) and the stream's state on the worker is already released; `close()` releases it
 * otherwise and must be called when the socket closes.
 */
export class ContinuousVerifier {
  private readonly decoder: FrameDecoder;
  private readonly confidenceState: RunningConfidence;
  private queue: Promise<unknown> = Promise.resolve();
  private over: EndReason | Refusal | undefined;
  private released = false;
  private samples = 0;

  private constructor(
    readonly hello: Hello,
    readonly policy: ContinuousPolicy,
    private readonly options: ContinuousOpenOptions,
    private readonly stream: number,
  ) {
    this.decoder = new FrameDecoder(hello);
    this.confidenceState = new RunningConfidence(policy, options.initialLlr);
  }

  /** A verifier for the stream that `hello` opens, or the refusal to close it with. */
  static async open(options: ContinuousOpenOptions): Promise<ContinuousVerifier | Refusal> {
    const policy = options.policy ?? DEFAULT_CONTINUOUS_POLICY;
    const problems = policyProblems(policy);
    if (problems.length > 0) throw new RangeError(`continuous policy: ${problems.join('; ')}`);
    const description = options.model.description;
    const hello = parseHello(options.hello, montageByName(description.montage), description.analysisRate, defaultQualityPolicy);
    if (isRefusal(hello)) return hello;
    const stream = await options.model.openStream(hello.sampleRate, policy);
    return new ContinuousVerifier(hello, policy, options, stream);
  }

  get confidence(): number {
    return this.confidenceState.confidence;
  }

  /** Stream time received so far (seconds of samples). */
  get streamSeconds(): number {
    return this.samples / this.hello.sampleRate;
  }

  /** Why the stream is over, once it is. */
  get ended(): EndReason | Refusal | undefined {
    return this.over;
  }

  /** One WebSocket message after the hello: a binary frame (or, refused, a text one). */
  push(message: Uint8Array | string): Promise<PushResult | Refusal> {
    const result = this.queue.then(() => this.process(message));
    this.queue = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    await this.queue;
    this.over ??= refusal('session_over', 'the stream was closed');
    await this.release();
  }

  private async process(message: Uint8Array | string): Promise<PushResult | Refusal> {
    if (this.over !== undefined) return refusal('session_over', 'the stream has already ended');
    if (typeof message === 'string') return this.refuse(refusal('unexpected_frame', 'only binary frames may follow the hello'));
    const chunk = this.decoder.decode(message);
    if (isRefusal(chunk)) return this.refuse(chunk);
    this.samples += chunk.channels[0]?.length ?? 0;
    const windows = await this.options.model.push(this.stream, chunk.channels);
    const verdicts: WindowVerdict[] = [];
    for (const window of windows) {
      if (window.embedding === undefined) {
        const step = this.confidenceState.rejectedWindow();
        verdicts.push({ endSeconds: window.endSeconds, confidence: step.confidence, rejected: window.rejection?.code ?? 'rejected' });
        if (step.end) return this.finish(verdicts, step.end);
        continue;
      }
      const score = this.options.match(window.embedding);
      const llr = scoreLlr(this.options.calibration, score);
      const step = this.confidenceState.scored(window.endSeconds, llr);
      verdicts.push({ endSeconds: window.endSeconds, score, llr, confidence: step.confidence });
      if (step.end) return this.finish(verdicts, step.end);
    }
    return { verdicts };
  }

  private async finish(verdicts: WindowVerdict[], end: EndReason): Promise<PushResult> {
    this.over = end;
    await this.release();
    return { verdicts, end };
  }

  private async refuse(why: Refusal): Promise<Refusal> {
    this.over = why;
    await this.release();
    return why;
  }

  private async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.options.model.closeStream(this.stream);
  }
}
