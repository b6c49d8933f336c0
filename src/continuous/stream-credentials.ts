import { createHmac, randomBytes } from 'node:crypto';
import type { RecordStore } from '../oidc/stores/record-store.js';

const CONTINUATION = 'StreamContinuation';
const TOKEN = 'StreamToken';

// What a device's continuation is worth, as its token exchange finds it.
export type Continuation =
  | { state: 'pending' }
  | { state: 'bound'; sessionUid: string }
  | undefined;

/**
 * The credentials of a continuous-verification stream. The device that delivered a sign-in's
 * recording (through the capture code) gets a *continuation* secret with its 202: only it holds
 * it. Once the sign-in has made a monitored session, the secret is bound to that session and the
 * device exchanges it for a *stream token* (short-lived, single use) to open each stream with.
 * Both are stored only as HMACs, in the short-lived store every process shares.
 */
export class StreamCredentials {
  constructor(
    private readonly store: RecordStore,
    private readonly key: string,
    readonly tokenTtlSeconds: number,
  ) {}

  /** The stored id of a secret or token (an HMAC, so the store never holds a usable one). */
  hash(secret: string): string {
    return createHmac('sha256', this.key).update(secret).digest('base64url');
  }

  /** A new continuation for a delivery: the secret for the device, its id for the sign-in; pending until bound. */
  async issueContinuation(ttlSeconds: number): Promise<{ secret: string; id: string }> {
    const secret = randomBytes(32).toString('base64url');
    const id = this.hash(secret);
    await this.store.upsert(CONTINUATION, id, { extra: { state: 'pending' } }, ttlSeconds);
    return { secret, id };
  }

  /** Binds a continuation to the monitored session the sign-in made, for as long as the session may live. */
  async bind(continuationId: string, sessionUid: string, ttlSeconds: number): Promise<void> {
    await this.store.upsert(CONTINUATION, continuationId, { extra: { state: 'bound', sessionUid } }, ttlSeconds);
  }

  async continuation(secret: string): Promise<Continuation> {
    const extra = (await this.store.find(CONTINUATION, this.hash(secret)))?.extra as { state?: unknown; sessionUid?: unknown } | undefined;
    if (extra?.state === 'pending') return { state: 'pending' };
    if (extra?.state === 'bound' && typeof extra.sessionUid === 'string') return { state: 'bound', sessionUid: extra.sessionUid };
    return undefined;
  }

  /** A stream token for a bound continuation's session. */
  async issueToken(continuationId: string, sessionUid: string): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await this.store.upsert(TOKEN, this.hash(token), { extra: { sessionUid, continuationId } }, this.tokenTtlSeconds);
    return token;
  }

  /** Uses a stream token up: the session and device it was issued for, once; undefined when unknown, expired or used. */
  async redeem(token: string): Promise<{ sessionUid: string; continuationId: string } | undefined> {
    const id = this.hash(token);
    const extra = (await this.store.find(TOKEN, id))?.extra as { sessionUid?: unknown; continuationId?: unknown } | undefined;
    if (typeof extra?.sessionUid !== 'string' || typeof extra.continuationId !== 'string') return undefined;
    if (!(await this.store.consume(TOKEN, id))) return undefined;
    return { sessionUid: extra.sessionUid, continuationId: extra.continuationId };
  }

  /** The session is over: its continuation stops working. */
  forget(continuationId: string): Promise<void> {
    return this.store.destroy(CONTINUATION, continuationId);
  }
}
