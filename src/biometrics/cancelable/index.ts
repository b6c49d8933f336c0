// Revocable (cancelable) biometric templates shared by the face and neural steps.
export { CancelableScheme, DEFAULT_TEMPLATE_BITS, angleBetween, chordOfAngle, type StoredTemplate } from './cancelable-scheme.js';
export { decodeTemplate, encodeTemplate, hammingFraction, TemplateFormatError, type CancelableTemplate } from './cancelable-template.js';
export { CANCELABLE_FORMAT, EMBEDDING_FORMAT, TemplateSealing, type LegacyEmbeddings, type SealedTemplate } from './sealed-templates.js';
