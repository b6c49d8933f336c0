// Public API of the face pipeline.
export { FacePipeline, DEFAULT_PIPELINE_OPTIONS, DEFAULT_QUALITY, MODEL_FILES } from './pipeline.js';
export type { FaceAnalysis, FacePipelineOptions } from './pipeline.js';
export { FaceError, isFaceError } from './errors.js';
export type { FaceErrorReason } from './errors.js';
export { EMBEDDING_SIZE } from './embedder.js';
export { DEFAULT_PAD_THRESHOLD } from './pad.js';
export { DEFAULT_MATCH_THRESHOLD, embeddingDistance, matchAgainst } from './match.js';
export type { MatchDecision } from './match.js';
export type { QualityReport, QualityThresholds } from './quality.js';
export type { Box, Point } from './image.js';
export { DEFAULT_DECODE_LIMITS } from './decode.js';
export type { DecodeLimits } from './decode.js';
export { FaceWorker } from './face-worker.js';
