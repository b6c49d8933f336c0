// The signal replay check as a model-worker service (see ../../biometrics/worker/model-host.ts):
// fingerprinting a long recording and searching the account's memory for it take up to seconds
// of CPU, which must not stall the server's other requests.
import type { Recording } from '../../biometrics/neural/recording.js';
import type { ModelService } from '../../biometrics/worker/model-host.js';
import { findReplay, type ReplayVerdict } from './replay.js';
import type { StoredSubmission, Submission } from './replay-memory.js';
import { signalFingerprint, unpackFingerprint, type SignalFingerprint } from './signal-fingerprint.js';

export interface ReplayRequest {
  recording: Recording;
  /** What to check the recording against; without it only its fingerprint is made (enrollment). */
  check?: { digest: string; previous: readonly StoredSubmission[]; threshold: number };
}

export interface ReplayReply {
  fingerprint: SignalFingerprint;
  verdict?: ReplayVerdict;
}

/** A stored submission with its fingerprint unpacked (it arrives as a plain byte array). */
function unpacked({ kind, digest, fingerprint }: StoredSubmission): Submission {
  return { kind, digest, ...(fingerprint ? { fingerprint: unpackFingerprint(Buffer.from(fingerprint.buffer, fingerprint.byteOffset, fingerprint.byteLength)) } : {}) };
}

export async function createService(): Promise<ModelService<ReplayRequest, ReplayReply>> {
  return {
    info: undefined,
    handle: async ({ recording, check }) => {
      const fingerprint = signalFingerprint(recording);
      return check ? { fingerprint, verdict: findReplay(check.digest, fingerprint, check.previous.map(unpacked), check.threshold) } : { fingerprint };
    },
  };
}
