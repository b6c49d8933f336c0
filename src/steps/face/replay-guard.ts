// Remembers the frames an account's bursts carried, for a while, in the short-lived store (Redis
// or SQL with expiry): a frame seen before, byte for byte or re-encoded, is not a live capture.
import { createHash } from 'node:crypto';
import type { RecordStore } from '../../oidc/stores/record-store.js';
import { hashDistance } from './frame-hash.js';

const DIGEST = 'FaceFrame';
const RECENT = 'FaceFrames';
// Perceptual hashes kept per account: a few dozen bursts.
const KEEP = 200;
// Re-encoded, rescaled or slightly shifted copies of a frame stay within this many of 256 bits;
// other photos of the same face measured ≥ 73 apart (faces-lfw-dev).
const SAME_PICTURE_BITS = 40;

export class ReplayGuard {
  constructor(
    private readonly store: RecordStore,
    private readonly ttlSeconds: number,
  ) {}

  /**
   * Records the burst's frames and says whether it was seen before: any byte-identical frame (a
   * camera never repeats its bytes), or most frames close to frames of earlier bursts.
   */
  async seenBefore(accountId: string, frames: readonly { bytes: Uint8Array; hash: string }[]): Promise<boolean> {
    const fresh = await Promise.all(
      frames.map(async ({ bytes }) => {
        const digest = createHash('sha256').update(accountId).update(bytes).digest('base64url');
        // Upsert, then consume: only the first burst carrying these bytes consumes the record.
        await this.store.upsert(DIGEST, digest, {}, this.ttlSeconds);
        return this.store.consume(DIGEST, digest);
      }),
    );
    const recent = ((await this.store.find(RECENT, accountId))?.hashes as string[] | undefined) ?? [];
    const matching = frames.filter(({ hash }) => recent.some((old) => hashDistance(old, hash) <= SAME_PICTURE_BITS)).length;
    await this.store.upsert(RECENT, accountId, { hashes: [...recent, ...frames.map((f) => f.hash)].slice(-KEEP) }, this.ttlSeconds);
    return fresh.includes(false) || matching * 2 >= frames.length;
  }
}
