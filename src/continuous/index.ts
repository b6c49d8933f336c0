// Continuous authentication (issue 11): after an EEG sign-in, the headset keeps streaming and every
// window is verified against the account's template. The transport (WebSocket, tokens, the silence
// timer) drives one ContinuousVerifier per stream over a ContinuousModel shared by the process.
export { ContinuousVerifier, type ContinuousOpenOptions, type PushResult, type WindowVerdict } from './continuous-verifier.js';
export { ContinuousModel } from './window-model.js';
export { DEFAULT_CONTINUOUS_POLICY, policyProblems, type ContinuousPolicy } from './continuous-policy.js';
export type { EndReason } from './running-confidence.js';
export { CLOSE_CODES, encodeFrame, isRefusal, MAX_FRAME_SECONDS, MAX_REASON_BYTES, refusal, type CloseCode, type CloseReason, type Hello, type Refusal } from './stream-protocol.js';
