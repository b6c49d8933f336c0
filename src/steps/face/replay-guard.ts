// Remembers the frames an account's bursts carried, for a while, in the short-lived store (Redis
// or SQL with expiry): a frame seen before, byte for byte or re-encoded, is not a live capture.
import { createHash } from 'node:crypto';
import { embeddingDistance, EMBEDDING_SIZE } from '../../biometrics/face/index.js';
import type { RecordStore } from '../../oidc/stores/record-store.js';
import type { SealedMemory } from '../../security/sealed-memory.js';
import { SHAPE_SIZE, shapeDistance } from './face-shape.js';

const DIGEST = 'FaceFrame';
const RECENT = 'FaceFrames';
// Frames remembered per account: ten full bursts or more.
const KEEP = 100;

/**
 * A frame is a copy of an earlier one when its landmark geometry (eye distances) and its embedding
 * are both this close: re-encoded, rescaled (0.5–1.5×), shifted (1–2 px) and brightened or darkened
 * (±10 %) copies of LFW photos, alone and combined, measured at most 0.075 and 0.196; other photos of
 * the same person (`npm run eval:face-replay`) rarely come within both (models/face-liveness.md).
 */
export const SAME_CAPTURE = { shape: 0.08, embedding: 0.2 } as const;

/** What is kept of a frame to recognise it later: biometric, so sealed at rest. */
export interface FrameTrace {
  readonly shape: readonly number[];
  readonly embedding: Float32Array;
}

export function sameCapture(a: FrameTrace, b: FrameTrace): boolean {
  return shapeDistance(a.shape, b.shape) <= SAME_CAPTURE.shape && embeddingDistance(a.embedding, b.embedding) <= SAME_CAPTURE.embedding;
}

const TRACE_FLOATS = SHAPE_SIZE + EMBEDDING_SIZE;

function pack(traces: readonly FrameTrace[]): Buffer {
  const out = new Float32Array(traces.length * TRACE_FLOATS);
  traces.forEach((t, i) => {
    out.set(t.shape, i * TRACE_FLOATS);
    out.set(t.embedding, i * TRACE_FLOATS + SHAPE_SIZE);
  });
  return Buffer.from(out.buffer);
}

function unpack(bytes: Buffer): FrameTrace[] {
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  const traces: FrameTrace[] = [];
  for (let at = 0; at + TRACE_FLOATS <= all.length; at += TRACE_FLOATS) {
    traces.push({ shape: Array.from(all.subarray(at, at + SHAPE_SIZE)), embedding: all.slice(at + SHAPE_SIZE, at + TRACE_FLOATS) });
  }
  return traces;
}

export class ReplayGuard {
  constructor(
    private readonly store: RecordStore,
    private readonly memory: SealedMemory,
    private readonly ttlSeconds: number,
  ) {}

  /**
   * Records the burst's frames and says whether it was seen before: any byte-identical frame (a
   * camera never repeats its bytes), or half the frames or more copies of frames of earlier bursts.
   */
  async seenBefore(accountId: string, frames: readonly (FrameTrace & { bytes: Uint8Array })[]): Promise<boolean> {
    const fresh = await Promise.all(
      frames.map(async ({ bytes }) => {
        const digest = createHash('sha256').update(accountId).update(bytes).digest('base64url');
        // Upsert, then consume: only the first burst carrying these bytes consumes the record.
        await this.store.upsert(DIGEST, digest, {}, this.ttlSeconds);
        return this.store.consume(DIGEST, digest);
      }),
    );
    const sealed = (await this.store.find(RECENT, accountId))?.frames;
    // Unopenable (another master key, damaged): nothing remembered; rewritten below under the current key.
    const opened = typeof sealed === 'string' ? this.memory.open(sealed, accountId) : undefined;
    const recent = opened ? unpack(opened) : [];
    const copies = frames.filter((frame) => recent.some((old) => sameCapture(old, frame))).length;
    const kept = [...recent, ...frames].slice(-KEEP);
    await this.store.upsert(RECENT, accountId, { frames: this.memory.seal(pack(kept), accountId) }, this.ttlSeconds);
    return fresh.includes(false) || copies * 2 >= frames.length;
  }
}
