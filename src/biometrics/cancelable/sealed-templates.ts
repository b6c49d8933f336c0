// How a step's store keeps its templates: cancelable bits, sealed, or (read only) a legacy sealed embedding.
import { SealedBox } from '../../security/sealed-box.js';
import { decodeTemplate, encodeTemplate } from './cancelable-template.js';
import { CancelableScheme, type StoredTemplate } from './cancelable-scheme.js';

/** The `format` column of a template row. */
export const CANCELABLE_FORMAT = 'cancelable-v1';
/** Rows written before cancelable templates: the sealed embedding itself. */
export const EMBEDDING_FORMAT = 'embedding';

export interface SealedTemplate {
  readonly format: string;
  readonly sealed: string;
}

/** How a store's legacy rows were sealed: their box and how their plaintext holds the embedding. */
export interface LegacyEmbeddings {
  readonly box: SealedBox;
  decode(plain: Buffer): Float32Array;
}

/**
 * Seals new templates as cancelable bits (the bits are sealed too, AES-256-GCM bound to the row,
 * so the table alone reveals nothing) and opens rows of either format.
 */
export class TemplateSealing {
  static forMasterKey(masterKey: Buffer, modality: string, legacy: LegacyEmbeddings): TemplateSealing {
    return new TemplateSealing(new CancelableScheme(masterKey, modality), new SealedBox(masterKey, `${modality}-cancelable-template`), legacy);
  }

  constructor(
    readonly scheme: CancelableScheme,
    private readonly box: SealedBox,
    private readonly legacy: LegacyEmbeddings,
  ) {}

  /** A new cancelable template of `embedding` (fresh key), sealed for the row `context`. */
  seal(embedding: Float32Array, context: string): SealedTemplate {
    return { format: CANCELABLE_FORMAT, sealed: this.box.seal(encodeTemplate(this.scheme.issue(embedding)), context) };
  }

  open({ format, sealed }: SealedTemplate, context: string): StoredTemplate {
    if (format === CANCELABLE_FORMAT) return { kind: 'cancelable', template: decodeTemplate(this.box.open(sealed, context)) };
    if (format === EMBEDDING_FORMAT) return { kind: 'embedding', vector: this.legacy.decode(this.legacy.box.open(sealed, context)) };
    throw new Error(`unknown template format ${format}`);
  }
}
