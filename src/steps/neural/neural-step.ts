import type { Config } from '../../../config/schema.js';
import { CANCELABLE_FORMAT } from '../../biometrics/cancelable/index.js';
import { calibrationBeside, llrField, scoreLlr, type Calibration } from '../../biometrics/fusion/index.js';
import type { Account } from '../../accounts/accounts.js';
import type { Embedding } from '../../biometrics/neural/embedder.js';
import { NeuralEmbedders } from '../../biometrics/neural/embedders.js';
import { NeuralInputError } from '../../biometrics/neural/errors.js';
import { currentNeuralModel, findNeuralModel, isCurrent, type NeuralModel } from '../../biometrics/neural/model-catalog.js';
import { montages, selectMontage, type MontageName } from '../../biometrics/neural/montage.js';
import { durationSeconds, type Recording } from '../../biometrics/neural/recording.js';
import { meanDirection } from '../../biometrics/neural/similarity.js';
import { WorkerSlot } from '../../biometrics/worker/worker-slot.js';
import type { Database } from '../../db/database.js';
import type { Logger } from '../../log.js';
import type { AuditLog } from '../../security/audit-log.js';
import type { CredentialThrottle, LockedOut } from '../../security/credential-throttle.js';
import { auditFields, lockedOutRefusal } from '../attempt-outcomes.js';
import type { Attempt, DeviceCaptureSpec, EnrollmentState, EnrollOutcome, Step, StepEnrollment, StepInput, StepOutcome, StepState, Upload, VerifyMode } from '../step.js';
import { NeuralCredentials } from './neural-credentials.js';
import { NeuralStreams } from './neural-streams.js';
import type { ReplayVerdict } from './replay.js';
import { ReplayMemory, type Submission } from './replay-memory.js';
import type { SignalFingerprint } from './signal-fingerprint.js';
import { ReplayWorker } from './replay-worker.js';
import { checkContentType, contentTypeProblem, decodeUpload, NEURAL_MAX_BYTES } from './upload.js';

export interface NeuralSettings {
  /** The headset kind (config `neuralModel`): which electrodes recordings must have, and so which models apply. */
  montage: MontageName;
  /** Cosine score a probe must reach; when unset, the calibrated value in the file of the template's model. */
  threshold?: number;
  replaySimilarity: number;
  replayRetentionDays: number;
}

// An enrollment needs at least this many clean 10 s windows (windows every 5 s: 20 s of signal).
const MIN_ENROLL_WINDOWS = 3;

const tooMany = (locked: LockedOut) => lockedOutRefusal(locked, 'Too many attempts that did not match.');

/** Why a recording cannot be used, for people; the code goes to the audit log. */
function unusable(err: NeuralInputError) {
  const status = err.code === 'recording_too_large' ? 413 : err.code === 'content_type_unsupported' ? 415 : 422;
  return { ok: false as const, status, message: `The recording cannot be used: ${err.message}.` };
}

/** One decoded upload: its samples on the model's montage and their digest. */
interface Decoded {
  recording: Recording;
  digest: string;
}

/**
 * Brain-signal verification with an EEG headset. A short resting recording (EDF or the device
 * samples format) is embedded by the neural model and compared with the account's enrolled
 * template by cosine score; a recording the account has submitted before (exactly, or its signal
 * shifted, rescaled, noisy, relabelled, resampled or spliced) is refused as a replay. RFC 8176 has no method value for EEG: `eeg` is a private value.
 */
export class NeuralStep implements Step {
  readonly id = 'neural';
  readonly amr = 'eeg';
  readonly label = 'Brain signal (EEG headset)';
  readonly identifies = false;
  readonly view = 'neural';
  readonly upload = { maxBytes: NEURAL_MAX_BYTES, maxFiles: 3 };
  readonly deviceCapture: DeviceCaptureSpec;
  readonly enrollment: StepEnrollment;
  /** What new enrolments use: the montage's current model. */
  readonly currentModel: NeuralModel;
  /** Present when the current model ships a calibration (templates of older models may lack one). */
  readonly fusion?: { readonly matcher: string };
  /** Continuous verification after sign-in, from the headset's stream. */
  readonly streams: NeuralStreams;
  /**
   * Each model runs in a worker thread (features and ONNX take up to a second for a long recording),
   * started on first use (the current one also by `warm`) and shared by every request; onnxruntime is loaded there.
   */
  private readonly embedders = new NeuralEmbedders();
  /** The signal replay check, on a thread of its own so that it runs while the model embeds. */
  private readonly replayCheck = new WorkerSlot(() => ReplayWorker.start());

  /** The step as configured (montage, threshold, replay settings), with its stores derived from the master key. */
  static forConfig(db: Database, masterKey: Buffer, throttle: CredentialThrottle, audit: AuditLog, config: Config, log: Logger): NeuralStep {
    return new NeuralStep(NeuralCredentials.forMasterKey(db, masterKey, log), throttle, audit, {
      montage: config.neuralModel,
      threshold: config.neuralThreshold,
      replaySimilarity: config.neuralReplaySimilarity,
      replayRetentionDays: config.neuralReplayRetentionDays,
    });
  }

  constructor(
    private readonly credentials: NeuralCredentials,
    private readonly throttle: CredentialThrottle,
    private readonly audit: AuditLog,
    private readonly settings: NeuralSettings,
  ) {
    this.currentModel = currentNeuralModel(settings.montage);
    const calibration = calibrationBeside(this.currentModel.file);
    if (calibration) this.fusion = { matcher: calibration.matcher };
    this.deviceCapture = { maxBytes: NEURAL_MAX_BYTES, checkType: contentTypeProblem, check: (data) => this.precheck(data) };
    this.enrollment = new NeuralEnrollment(this);
    this.streams = new NeuralStreams(credentials, settings.montage);
  }

  async warm(): Promise<void> {
    await Promise.all([this.embedders.get(this.currentModel), this.replayCheck.get()]);
  }

  async close(): Promise<void> {
    await Promise.all([this.embedders.close(), this.replayCheck.close(), this.streams.close()]);
  }

  purgeExpired(): Promise<number> {
    return this.credentials.replay.purgeExpired();
  }

  /** The cheap checks a device gets an answer to at once: format, channels, rate, duration. */
  private precheck(data: Buffer): string | undefined {
    try {
      this.decode(data);
      return undefined;
    } catch (err) {
      if (err instanceof NeuralInputError) return err.message;
      throw err;
    }
  }

  /** Decodes an upload onto the configured montage; throws NeuralInputError naming what is wrong. */
  decode(data: Buffer): Decoded {
    const recording = selectMontage(decodeUpload(data), montages[this.settings.montage]);
    return { recording, digest: this.credentials.replay.digest(recording) };
  }

  /**
   * The recording embedded by `model` (by default the current one), with the threshold its scores
   * are held to and the model's calibration (none for models fitted before calibration existed).
   */
  async embed(recording: Recording, model: NeuralModel = this.currentModel): Promise<{ embedding: Embedding; threshold: number; calibration?: Calibration }> {
    const embedder = await this.embedders.get(model);
    return { embedding: await embedder.embed(recording), threshold: this.settings.threshold ?? embedder.threshold, calibration: embedder.calibration };
  }

  isEnrolled(account: Account): Promise<boolean> {
    return this.credentials.exists(account.id);
  }

  async prompt(): Promise<Record<string, unknown>> {
    return { title: 'Brain-signal check' };
  }

  async verify(input: StepInput, state: StepState, at: Attempt, mode?: VerifyMode): Promise<StepOutcome> {
    const account = state.account;
    if (!account) return { ok: false, status: 400, message: 'Sign in with your password first.' };
    const file = onlyRecording(input.files);
    if (typeof file === 'string') return { ok: false, status: 400, message: file };
    const key = `neural:${account.id}`;
    const meta = auditFields(account, at);
    const failed = (reason: string, details: Record<string, unknown> = {}) =>
      this.audit.record({ type: 'login.failed', outcome: 'failure', ...meta, details: { step: this.id, reason, ...details } });
    const locked = await this.throttle.check(key, at.ip);
    if (locked) {
      await failed(`locked_${locked.scope}`);
      return tooMany(locked);
    }
    const template = await this.credentials.template(account.id);
    if (!template) return { ok: false, status: 400, message: 'No brain-signal enrollment is set up for this account.' };
    // The template is verified by the model that made it; one this server cannot run is not compared.
    const model = findNeuralModel(template.model);
    if (model?.montage !== this.settings.montage) {
      await failed('model_changed', { model: template.model, montage: this.settings.montage });
      return { ok: false, status: 409, message: 'Your brain-signal enrollment was made for a different kind of headset. Ask your administrator to reset it.' };
    }

    const started = process.hrtime.bigint();
    let decoded: Decoded;
    let probe: Embedding;
    let threshold: number;
    let calibration: Calibration | undefined;
    let replay: ReplayVerdict;
    let fingerprint: SignalFingerprint;
    try {
      checkContentType(file.contentType);
      decoded = this.decode(file.data);
      const embedding = this.embed(decoded.recording, model);
      // Awaited below with the replay check; until then a failure must not count as unhandled.
      embedding.catch(() => undefined);
      // Keyed by montage, not model: fingerprints do not depend on the model, so what was remembered
      // under a v1 template still counts after re-enrolment on v2 (v1's id is the montage's name).
      const previous = await this.credentials.replay.previous(account.id, model.montage);
      const checked = (await this.replayCheck.get()).check(decoded.recording, decoded.digest, previous, this.settings.replaySimilarity);
      [{ embedding: probe, threshold, calibration }, { verdict: replay, fingerprint }] = await Promise.all([embedding, checked]);
    } catch (err) {
      if (!(err instanceof NeuralInputError)) throw err;
      await failed('bad_recording', { code: err.code, model: model.id });
      return unusable(err);
    }
    const quality = {
      seconds: Math.round(durationSeconds(decoded.recording) * 10) / 10,
      windows_used: probe.windowsUsed,
      windows_rejected: probe.windowsRejected.length,
    };
    const fail = async (reason: string, details: Record<string, unknown>, message: string) => {
      const nowLocked = await this.throttle.fail(key, at.ip);
      await failed(reason, { ...details, quality });
      if (nowLocked) await this.audit.record({ type: 'login.locked_out', outcome: 'failure', ...meta, details: { step: this.id, scope: nowLocked } });
      return { ok: false as const, status: 401, message };
    };

    // The cosine at the angle the template estimates, so the model's cosine threshold applies to either kind.
    const similarity = Math.cos(this.credentials.scheme.angleTo(probe.vector, template.stored));
    const decision = { model: model.id, score: round(similarity), ...llrField(calibration, similarity), threshold, elapsed_ms: elapsedMs(started) };
    if (replay.replay) {
      const details = { ...decision, decision: 'reject', match: replay.match, of: replay.of, replay_similarity: round(replay.similarity), copied_seconds: replay.seconds };
      return fail('replay', details, 'This recording has been used before. Record a new one with your headset and try again.');
    }
    const matched = similarity >= threshold;
    const fused = mode?.fused === true;
    if (fused && !calibration) {
      // The engine adds calibrated LLRs; a model fitted before calibration existed has none to give.
      await failed('not_fusable', { ...decision, decision: 'reject', quality });
      return { ok: false, status: 409, message: 'Your brain-signal enrollment was made with an older model whose scores cannot be combined with other checks. Set it up again in your account settings.' };
    }
    if (!fused && !matched) {
      return fail('no_match', { ...decision, decision: 'reject' }, 'The brain signal does not match the enrolled one. Sit still, relax with your eyes closed and record again.');
    }
    const submission: Submission = { kind: 'probe', digest: decoded.digest, fingerprint };
    if (!(await this.credentials.replay.rememberProbe(account.id, model.montage, submission, ReplayMemory.expiry(this.settings.replayRetentionDays)))) {
      // The same recording was accepted by a concurrent request a moment ago.
      return fail('replay', { ...decision, decision: 'reject', match: 'exact', of: 'probe', replay_similarity: 1 }, 'This recording has been used before. Record a new one with your headset and try again.');
    }
    // An older model's template keeps working; the flag lets admins find the accounts to invite to re-enrol.
    const outdated = isCurrent(model) ? {} : { model_outdated: true };
    if (fused) {
      // The engine decides on the fused score and counts a rejection; the step's own verdict is only noted.
      await this.audit.record({ type: 'login.scored', outcome: 'success', ...meta, details: { step: this.id, ...decision, ...outdated, decision: matched ? 'match' : 'no_match', fused: true, quality } });
    } else {
      await this.throttle.succeed(key);
      await this.audit.record({ type: 'login.succeeded', outcome: 'success', ...meta, details: { step: this.id, amr: this.amr, ...decision, ...outdated, decision: 'accept', quality } });
    }
    // A template enrolled as a plain embedding becomes a cancelable one once its owner has matched it.
    if (matched && template.stored.kind === 'embedding' && (await this.credentials.migrate(account.id, template.stored.vector))) {
      await this.audit.record({ type: 'credential.migrated', outcome: 'success', ...meta, details: { step: this.id, templates: 1, format: CANCELABLE_FORMAT } });
    }
    // Reported whenever the model is calibrated: a fused requirement adds it up, a monitored session starts from it.
    const evidence = calibration ? { evidence: { matcher: calibration.matcher, score: similarity, llr: scoreLlr(calibration, similarity) } } : {};
    return { ok: true, account, ...evidence };
  }

  async saveEnrollment(account: Account, files: readonly Upload[], at: Attempt): Promise<EnrollOutcome> {
    const meta = auditFields(account, at);
    const submissions: Submission[] = [];
    const windows: Float32Array[] = [];
    let rejected = 0;
    let seconds = 0;
    try {
      for (const file of files) {
        checkContentType(file.contentType);
        const decoded = this.decode(file.data);
        const [{ embedding }, fingerprint] = await Promise.all([this.embed(decoded.recording), (await this.replayCheck.get()).fingerprint(decoded.recording)]);
        submissions.push({ kind: 'enrollment', digest: decoded.digest, fingerprint });
        windows.push(...embedding.windows);
        rejected += embedding.windowsRejected.length;
        seconds += durationSeconds(decoded.recording);
      }
    } catch (err) {
      if (!(err instanceof NeuralInputError)) throw err;
      await this.audit.record({ type: 'credential.enroll_failed', outcome: 'failure', ...meta, details: { step: this.id, reason: 'bad_recording', code: err.code } });
      return unusable(err);
    }
    if (windows.length < MIN_ENROLL_WINDOWS) {
      await this.audit.record({ type: 'credential.enroll_failed', outcome: 'failure', ...meta, details: { step: this.id, reason: 'too_little_signal', windows: windows.length } });
      return { ok: false, status: 422, message: `The recording has too little clean signal: ${windows.length} usable 10-second window(s), at least ${MIN_ENROLL_WINDOWS} are needed (about 20 seconds without blinks or movement).` };
    }
    await this.credentials.enroll(account.id, { vector: meanDirection(windows), model: this.currentModel, windows: windows.length }, submissions);
    await this.audit.record({
      type: 'credential.enrolled',
      outcome: 'success',
      ...meta,
      details: { step: this.id, model: this.currentModel.id, recordings: files.length, seconds: Math.round(seconds), windows: windows.length, windows_rejected: rejected },
    });
    return { ok: true };
  }

  async removeEnrollment(account: Account, at: Attempt): Promise<boolean> {
    if (!(await this.credentials.exists(account.id))) return false;
    await this.credentials.remove(account.id);
    await this.audit.record({ type: 'credential.removed', outcome: 'success', ...auditFields(account, at), details: { step: this.id } });
    return true;
  }
}

/** One recording per verification: several would let a probe pick its best. */
function onlyRecording(files: readonly Upload[]): Upload | string {
  if (files.length === 0) return 'No recording arrived. Enter the code in your headset app, or choose a recording file.';
  if (files.length > 1) return 'Send one recording.';
  return files[0]!;
}

const round = (x: number) => Math.round(x * 10000) / 10000;
const elapsedMs = (started: bigint) => Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10;

/** Enrollment from one or more resting recordings; confirmed as soon as they are usable. */
class NeuralEnrollment implements StepEnrollment {
  readonly view = 'neural';

  constructor(private readonly step: NeuralStep) {}

  /** Nothing is pending: the recordings arrive with the confirming submission. */
  async begin(): Promise<string> {
    return '';
  }

  async prompt(): Promise<Record<string, unknown>> {
    return { title: 'Set up brain-signal sign-in', enroll: true };
  }

  async confirm(input: StepInput, { account }: EnrollmentState, at: Attempt): Promise<EnrollOutcome> {
    if (input.files.length === 0) return { ok: false, status: 400, message: 'No recording arrived. Enter the code in your headset app, or choose one to three recording files.' };
    return this.step.saveEnrollment(account, input.files, at);
  }

  remove(account: Account, at: Attempt): Promise<boolean> {
    return this.step.removeEnrollment(account, at);
  }
}
