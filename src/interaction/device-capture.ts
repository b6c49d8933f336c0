import { createHmac, randomInt } from 'node:crypto';
import type { RecordStore } from '../oidc/stores/record-store.js';
import type { SealedBox } from '../security/sealed-box.js';
import type { Upload } from '../steps/step.js';

// Unambiguous alphabet (no 0/O, 1/I/L): the code is read off a screen and typed into a device.
const ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
// 31^8 ≈ 8.5e11 (39.6 bits): with a few minutes of validity and per-IP limits, not guessable.
const CODE_LENGTH = 8;
const CODE_SHAPE = new RegExp(`^[${ALPHABET}]{${CODE_LENGTH}}$`);

const CODE = 'CaptureCode';
const LATEST = 'CaptureContext';
const PAYLOAD = 'CapturePayload';

/** Uppercases and drops separators, so "abcd-efgh" and "ABCD EFGH" are the same code. */
export const normaliseCode = (code: string) => code.toUpperCase().replace(/[\s-]/g, '');
export const isCodeShaped = (code: string) => CODE_SHAPE.test(code);

/** A live code: the opaque context it feeds and which kind of payload it accepts (a step id). */
export interface CaptureBinding {
  id: string;
  context: string;
  accepts: string;
  consumed: boolean;
  /** Whether the delivering device gets a continuation, to keep streaming after the sign-in (continuous authentication). */
  continuable: boolean;
}

/** A delivered payload as its context's owner takes it. */
export interface Delivery {
  upload: Upload;
  /** The id of the continuation the delivering device got, if it got one. */
  continuationId?: string;
}

export type CaptureStatus = 'waiting' | 'received' | 'expired';

/**
 * One-time codes that let a separate device (a headset's companion app, `tessera neural send`)
 * deliver a payload into a sign-in or an enrollment without any cookie. A code is bound to an
 * opaque context (which the caller owns and checks: an interaction uid and step, an account
 * console set-up), lives `ttlSeconds`, works once, and is stored only as an HMAC. The payload
 * waits, sealed, in the short-lived store until the context's owner takes it.
 */
export class DeviceCapture {
  constructor(
    private readonly store: RecordStore,
    private readonly box: SealedBox,
    private readonly codeKey: string,
    readonly ttlSeconds: number,
  ) {}

  private hash(code: string): string {
    return createHmac('sha256', this.codeKey).update(code).digest('hex');
  }

  /** A fresh code for the context; an earlier code, and anything delivered with it but not taken, is dropped. */
  async issue(context: string, accepts: string, continuable = false): Promise<{ code: string; expiresAt: number }> {
    let code: string;
    let id: string;
    // A clash with a live code is astronomically unlikely, but would hand one page's delivery to another.
    do {
      code = Array.from({ length: CODE_LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
      id = this.hash(code);
    } while (await this.store.find(CODE, id));
    await this.revoke(context);
    await this.store.upsert(CODE, id, { extra: { context, accepts, continuable } }, this.ttlSeconds);
    await this.store.upsert(LATEST, context, { extra: { codeId: id } }, this.ttlSeconds);
    return { code, expiresAt: Date.now() + this.ttlSeconds * 1000 };
  }

  /** Drops the context's live code and anything delivered with it but not taken. */
  async revoke(context: string): Promise<void> {
    const previous = (await this.store.find(LATEST, context))?.extra?.codeId;
    if (typeof previous === 'string') await this.store.destroy(CODE, previous);
    await this.store.destroy(PAYLOAD, context);
  }

  /** The binding of a (normalised) code, if it exists and has not expired. */
  async find(code: string): Promise<CaptureBinding | undefined> {
    if (!isCodeShaped(code)) return undefined;
    const id = this.hash(code);
    const record = await this.store.find(CODE, id);
    const { context, accepts, continuable } = (record?.extra ?? {}) as { context?: unknown; accepts?: unknown; continuable?: unknown };
    if (typeof context !== 'string' || typeof accepts !== 'string') return undefined;
    return { id, context, accepts, consumed: Boolean(record?.consumed), continuable: continuable === true };
  }

  /** Uses the code up; true when this caller did (false: the code was used meanwhile). */
  claim(binding: CaptureBinding): Promise<boolean> {
    return this.store.consume(CODE, binding.id);
  }

  /** Keeps a claimed code's payload for its context (with the continuation its device got, if any). */
  async deliver(binding: CaptureBinding, data: Buffer, contentType: string, continuationId?: string): Promise<void> {
    const sealed = this.box.seal(data, binding.context);
    await this.store.upsert(PAYLOAD, binding.context, { extra: { sealed, contentType, ...(continuationId ? { continuationId } : {}) } }, this.ttlSeconds);
  }

  async status(context: string): Promise<CaptureStatus> {
    if (await this.store.find(PAYLOAD, context)) return 'received';
    const latest = (await this.store.find(LATEST, context))?.extra?.codeId;
    const code = typeof latest === 'string' ? await this.store.find(CODE, latest) : undefined;
    return code && !code.consumed ? 'waiting' : 'expired';
  }

  /** Hands over the context's payload once (concurrent takers: one gets it). */
  async take(context: string): Promise<Delivery | undefined> {
    const record = await this.store.find(PAYLOAD, context);
    const { sealed, contentType, continuationId } = (record?.extra ?? {}) as { sealed?: unknown; contentType?: unknown; continuationId?: unknown };
    if (typeof sealed !== 'string' || record?.consumed || !(await this.store.consume(PAYLOAD, context))) return undefined;
    await this.store.destroy(PAYLOAD, context);
    const upload = { field: 'capture', filename: 'device-capture', contentType: typeof contentType === 'string' ? contentType : 'application/octet-stream', data: this.box.open(sealed, context) };
    return { upload, ...(typeof continuationId === 'string' ? { continuationId } : {}) };
  }
}
