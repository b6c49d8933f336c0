// Reading one liveness burst: the challenge it answers (its movements, in order and in time), its
// frames analysed, replay and movement checked. Shared by sign-in and enrollment, which differ only
// in what they do with the frames.
import { DEFAULT_QUALITY, isFaceError, type FaceAnalysis, type FaceErrorReason, type QualityThresholds } from '../../biometrics/face/index.js';
import type { RateCounter } from '../../security/rate-counter.js';
import type { StepInput } from '../step.js';
import { checkCaptureTimes } from './capture-times.js';
import { instructionFor, type Challenges, type ChallengeKind } from './challenge.js';
import type { FaceAnalyser } from './face-analyser.js';
import { faceShape } from './face-shape.js';
import { faceHash } from './frame-hash.js';
import { headPose } from './head-pose.js';
import { checkLiveness, type BurstFrame } from './liveness.js';
import { padDecision, type PadDecision } from './presentation-attack.js';
import type { ReplayGuard } from './replay-guard.js';

export const MIN_FRAMES = 5;
export const MAX_FRAMES = 10;

/** Frames per movement, as the capture page takes them: two (one on the way, one there), more for a single movement. */
export const framesPerMove = (moves: number) => Math.max(2, Math.ceil((MIN_FRAMES - moves) / moves));

/** The frames of the capture page's burst for a challenge of `moves` movements: one facing the camera, each movement's, one back at the centre between movements (views/static/face-capture.js). */
export const burstFrames = (moves: number) => 1 + moves * framesPerMove(moves) + moves - 1;
export const MAX_FRAME_BYTES = 2 * 1024 * 1024;
// Each burst costs about a quarter of a second of CPU, whatever its outcome: a cap per account
// keeps anyone past the password from keeping the models busy with unusable captures.
const MAX_BURSTS_PER_MINUTE = 10;

// What a frame part may declare itself as (the content is checked by decoding; a client that
// does not know the type sends octet-stream).
const FRAME_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp', 'application/octet-stream']);

// Burst frames show a turned or nodding head by design: the pose limit is widened, the others stay.
export const BURST_QUALITY: QualityThresholds = { ...DEFAULT_QUALITY, maxYaw: 1.2 };

export interface Burst {
  readonly challenge: readonly ChallengeKind[];
  readonly frames: readonly BurstFrame[];
  /** Index of the most frontal frame: the probe compared with the templates. */
  readonly probe: number;
  readonly pad: PadDecision;
}

export interface BurstFailure {
  readonly status: number;
  readonly message: string;
  /** For the audit log: why, in a word. */
  readonly reason: string;
  /** Whether the failure counts towards the lockout (an attempt at the credential, not a bad capture). */
  readonly counts: boolean;
  readonly details?: Record<string, unknown>;
  readonly retryAfterSeconds?: number;
}

const CAPTURE_MESSAGES: Record<FaceErrorReason, [number, string]> = {
  not_an_image: [415, 'is not a picture we can read (send JPEG, PNG or WebP)'],
  truncated_image: [400, 'is incomplete (the upload was cut short)'],
  image_too_large: [413, 'is too large'],
  too_many_pixels: [413, 'has too many pixels'],
  no_face: [422, 'shows no face: make sure your whole face is in view'],
  multiple_faces: [422, 'shows more than one face: make sure you are alone in the picture'],
  face_too_small: [422, 'shows your face too small: come closer to the camera'],
  blurry: [422, 'is blurred: hold still and make sure the camera is clean and focused'],
  bad_pose: [422, 'shows your head turned or tilted too far'],
  bad_exposure: [422, 'is too dark or too bright: find even light on your face'],
};

const LIVENESS_MESSAGES = {
  static_frames: 'The pictures did not change between frames. Use a live camera and follow the instruction.',
  not_facing_camera: 'Start by looking straight at the camera, then follow the instruction.',
  identity_changed: 'The face changed during the capture. Make sure only you are in view and try again.',
} as const;

const CHALLENGE_MESSAGES = {
  challenge_invalid: 'This capture does not belong to this sign-in. Reload the page and try again.',
  challenge_expired: 'The capture took too long. Try again with the new instruction.',
  challenge_reused: 'This instruction has already been used. Try again with the new instruction.',
} as const;

const TIMING_MESSAGES = {
  capture_times_missing: [400, false, 'Send the capture time of each frame (form field "frameTimes": milliseconds since the instruction was shown, comma-separated, in frame order).'],
  capture_times_implausible: [401, true, 'The frames were not taken like a live camera takes them. Use the camera and follow the instruction.'],
  captured_before_challenge: [401, true, 'These pictures were taken before this instruction was given. Capture new ones with the camera.'],
  capture_too_slow: [409, false, CHALLENGE_MESSAGES.challenge_expired],
} as const;

export class BurstReader {
  constructor(
    private readonly analyser: FaceAnalyser,
    private readonly challenges: Challenges,
    private readonly replays: ReplayGuard,
    private readonly rate: RateCounter,
    private readonly padThreshold: number,
  ) {}

  /** Checks a submission bound to `binding` for `accountId`; the frames are never stored. */
  async read(input: StepInput, binding: string, accountId: string): Promise<Burst | BurstFailure> {
    const files = input.files.filter((f) => f.field === 'frame');
    if (files.length !== input.files.length || files.length < MIN_FRAMES || files.length > MAX_FRAMES) {
      return { status: 400, reason: 'bad_request', counts: false, message: `Send between ${MIN_FRAMES} and ${MAX_FRAMES} camera frames (form field "frame").` };
    }
    const recent = await this.rate.hit(`face-bursts:${accountId}`, 60);
    if (recent.count > MAX_BURSTS_PER_MINUTE) {
      const retryAfterSeconds = Math.max(1, Math.ceil((recent.resetAt - Date.now()) / 1000));
      return { status: 429, reason: 'too_many_bursts', counts: false, retryAfterSeconds, message: `Too many captures in a short time. Try again in ${retryAfterSeconds} seconds.` };
    }
    const large = files.findIndex((f) => f.data.length > MAX_FRAME_BYTES);
    if (large >= 0) return { status: 413, reason: 'image_too_large', counts: false, message: `Frame ${large + 1} is larger than ${MAX_FRAME_BYTES / 1024 / 1024} MB.`, details: { frame: large + 1 } };
    const mistyped = files.findIndex((f) => !FRAME_TYPES.has(f.contentType.split(';')[0]!.trim().toLowerCase()));
    if (mistyped >= 0) {
      const type = files[mistyped]!.contentType.slice(0, 100);
      return { status: 415, reason: 'wrong_content_type', counts: false, message: `Frame ${mistyped + 1} is sent as ${type}: send JPEG, PNG or WebP pictures.`, details: { frame: mistyped + 1, content_type: type } };
    }
    const redeemed = await this.challenges.redeem(input.fields.challenge ?? '', binding);
    if (!redeemed.ok) return { status: redeemed.reason === 'challenge_invalid' ? 400 : 409, reason: redeemed.reason, counts: redeemed.reason === 'challenge_reused', message: CHALLENGE_MESSAGES[redeemed.reason] };
    const challenge = redeemed.challenge.moves;
    const timing = checkCaptureTimes(input.fields.frameTimes, files.length, redeemed.challenge, this.challenges.windowSeconds);
    if (!timing.ok) {
      const [status, counts, message] = TIMING_MESSAGES[timing.reason];
      return { status, reason: timing.reason, counts, message, details: { challenge } };
    }

    // One frame at a time: concurrent runs would each hold their own activations (memory), and
    // the first unusable frame ends the work.
    const frames: BurstFrame[] = [];
    const padScores: number[] = [];
    for (const [i, file] of files.entries()) {
      let analysis: FaceAnalysis;
      try {
        analysis = await this.analyser.analyse(file.data, BURST_QUALITY);
      } catch (error) {
        if (!isFaceError(error)) throw error;
        const [status, text] = CAPTURE_MESSAGES[error.reason];
        const quality = error.details.quality as { failures?: string[] } | undefined;
        return { status, reason: error.reason, counts: false, message: `Frame ${i + 1} ${text}.`, details: { frame: i + 1, quality_reasons: quality?.failures ?? [error.reason] } };
      }
      const hash = await faceHash(file.data, analysis.box, analysis.imageSize);
      frames.push({ embedding: analysis.embedding, pose: headPose(analysis.landmarks), hash, shape: faceShape(analysis.landmarks) });
      padScores.push(analysis.pad);
    }
    // Presentation-attack detection: the burst must also look like a live face, not an artefact.
    const pad = padDecision(padScores, this.padThreshold);
    if (!pad.live) {
      return { status: 401, reason: 'presentation_attack', counts: true, message: 'This does not look like a live face in front of the camera (it looks like a photo or a screen). Use your camera with your own face in view.', details: { challenge, ...padAuditFields(pad) } };
    }
    if (await this.replays.seenBefore(accountId, frames.map((f, i) => ({ ...f, bytes: files[i]!.data })))) {
      return { status: 401, reason: 'replayed_frames', counts: true, message: 'These pictures were sent before. Capture new ones with the camera.' };
    }
    const liveness = checkLiveness(frames, challenge);
    if (!liveness.ok) {
      const message = liveness.reason === 'challenge_not_followed' ? `We could not see the movements we asked for, in that order (“${instructionFor(challenge)}”). Try again with the new instruction.` : LIVENESS_MESSAGES[liveness.reason];
      return { status: 401, reason: liveness.reason, counts: true, message, details: { challenge, performed: liveness.performed } };
    }
    return { challenge, frames, probe: liveness.probe, pad };
  }
}

/** PAD figures for the audit log: the burst's score, the threshold and how its frames scored. */
export const padAuditFields = (pad: PadDecision) => ({
  pad_score: round(pad.score),
  pad_threshold: pad.threshold,
  pad_lowest_frame_score: round(Math.min(...pad.frameScores)),
  pad_frames_below_threshold: pad.frameScores.filter((s) => !(s >= pad.threshold)).length,
});

export const isBurstFailure = (b: Burst | BurstFailure): b is BurstFailure => 'status' in b;
export const round = (n: number | undefined) => (n === undefined ? undefined : Math.round(n * 1000) / 1000);
