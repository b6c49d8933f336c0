// Calibrated scores and their fusion (issue 11): each matcher's raw score becomes a log-likelihood
// ratio; independent matchers' LLRs add up; a target false-accept rate fixes the threshold.
export { CalibrationError, calibrationJson, parseCalibration, scoreLlr, type Calibration } from './calibration.js';
export { calibrationBeside, llrField } from './calibration-file.js';
export { cllr, DEFAULT_ECE_BINS, expectedCalibrationError } from './calibration-error.js';
export { fusedDecision, fuseLlrs, llrThresholdForFar, type FusedDecision, type MatcherLlr, type MatcherScore } from './fused-decision.js';
export { CalibrationFitError, fitLlrLine, type LlrLine } from './logistic-fit.js';
export { EEG_SCORE, FACE_SCORE, oriented, type ScoreDirection, type ScoreKind } from './score-direction.js';
