// Issuing and comparing cancelable templates: keyed sign bits whose Hamming distance estimates an angle.
import { hkdfSync, randomBytes } from 'node:crypto';
import { hammingFraction, SALT_BYTES, type CancelableTemplate } from './cancelable-template.js';
import { projectionSigns, signBits, signBitsWith } from './sign-projection.js';

/**
 * Bits per template (1 KiB), chosen on faces-lfw-dev and eegmat (models/face-recognition.md,
 * models/neural.md): the angle estimate's spread falls as 1/√bits, and face EER cost 1.3 points at
 * 1024 bits, 0.45 at 2048, 0.28 at 4096 and 0.10 at 8192 against the plain embedding.
 */
export const DEFAULT_TEMPLATE_BITS = 8192;

/** A template as read from storage: a cancelable one, or a plain embedding enrolled before them (migrated at the next sign-in). */
export type StoredTemplate = { readonly kind: 'cancelable'; readonly template: CancelableTemplate } | { readonly kind: 'embedding'; readonly vector: Float32Array };

/**
 * One modality's cancelable templates. Each template has its own random salt; its projection key
 * is HKDF(master key, salt, purpose) and is never stored, so a new enrolment (new salt) or another
 * deployment (other master key) projects the same face or brain signal onto unrelated bits.
 */
export class CancelableScheme {
  constructor(
    private readonly masterKey: Buffer,
    private readonly purpose: string,
    readonly bitCount = DEFAULT_TEMPLATE_BITS,
  ) {}

  /** A new template of `embedding` under a fresh key. */
  issue(embedding: Float32Array): CancelableTemplate {
    return this.protect(embedding, randomBytes(SALT_BYTES), this.bitCount);
  }

  /** The bits of `embedding` under the key of `salt`. */
  protect(embedding: Float32Array, salt: Buffer, bitCount: number): CancelableTemplate {
    return { salt, dimensions: embedding.length, bitCount, bits: signBits(embedding, this.key(salt), bitCount) };
  }

  /** Estimated angle (radians, 0…π) between a probe embedding and the embedding a template was made of. */
  angle(probe: Float32Array, template: CancelableTemplate): number {
    return this.matcher({ kind: 'cancelable', template })(probe);
  }

  /**
   * The angle to one stored template for many probes (a stream's windows): its key and projection
   * signs are drawn once, not per probe.
   */
  matcher(stored: StoredTemplate): (probe: Float32Array) => number {
    if (stored.kind === 'embedding') return (probe) => angleBetween(probe, stored.vector);
    const { template } = stored;
    const signs = projectionSigns(this.key(template.salt), template.dimensions, template.bitCount);
    return (probe) => {
      if (probe.length !== template.dimensions) throw new RangeError(`template is of ${template.dimensions} dimensions, probe of ${probe.length}`);
      return Math.PI * hammingFraction(signBitsWith(probe, signs, template.bitCount), template.bits, template.bitCount);
    };
  }

  /** The angle to a stored template of either kind. */
  angleTo(probe: Float32Array, stored: StoredTemplate): number {
    return stored.kind === 'cancelable' ? this.angle(probe, stored.template) : angleBetween(probe, stored.vector);
  }

  private key(salt: Buffer): Buffer {
    return Buffer.from(hkdfSync('sha256', this.masterKey, salt, `tessera:cancelable:${this.purpose}`, 32));
  }
}

/** Angle between two plain vectors (radians, 0…π). */
export function angleBetween(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new RangeError(`vectors of ${a.length} and ${b.length} dimensions`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na > 0 && nb > 0 ? Math.acos(Math.max(-1, Math.min(1, dot / Math.sqrt(na * nb)))) : Math.PI / 2;
}

/** Euclidean distance of two unit vectors at angle θ, so distance thresholds keep their meaning. */
export const chordOfAngle = (angle: number): number => 2 * Math.sin(angle / 2);
