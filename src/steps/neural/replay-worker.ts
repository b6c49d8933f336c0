// The signal replay check behind a worker thread: a 10-minute recording's search would otherwise
// hold the event loop for a second or more.
import type { Recording } from '../../biometrics/neural/recording.js';
import { ModelWorker } from '../../biometrics/worker/model-worker.js';
import type { ReplayVerdict } from './replay.js';
import type { StoredSubmission } from './replay-memory.js';
import type { ReplayReply, ReplayRequest } from './replay-service.js';
import type { SignalFingerprint } from './signal-fingerprint.js';

export class ReplayWorker {
  private constructor(private readonly worker: ModelWorker<ReplayRequest, ReplayReply>) {}

  static async start(): Promise<ReplayWorker> {
    return new ReplayWorker(await ModelWorker.start<ReplayRequest, ReplayReply>('neural-replay', new URL('./replay-service.js', import.meta.url), {}, (error) => new Error(error.message)));
  }

  get alive(): boolean {
    return this.worker.alive;
  }

  /** The recording's signal fingerprint (the samples are copied to the thread). */
  async fingerprint(recording: Recording): Promise<SignalFingerprint> {
    return (await this.worker.call({ recording })).fingerprint;
  }

  /** findReplay on the thread, with the probe's fingerprint to remember if it is accepted. */
  async check(recording: Recording, digest: string, previous: readonly StoredSubmission[], threshold: number): Promise<{ fingerprint: SignalFingerprint; verdict: ReplayVerdict }> {
    const reply = await this.worker.call({ recording, check: { digest, previous, threshold } });
    return { fingerprint: reply.fingerprint, verdict: reply.verdict! };
  }

  close(): Promise<void> {
    return this.worker.close();
  }
}
