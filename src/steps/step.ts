import type { Account } from '../accounts/accounts.js';
import type { StepStreams } from '../continuous/step-streams.js';

/** Who is attempting, from where: for throttling and the audit trail. */
export interface Attempt {
  ip: string;
  userAgent?: string;
  clientId?: string;
}

/** What the engine knows about the sign-in so far. */
export interface StepState {
  // The sign-in (interaction) in progress: per-attempt challenges are bound to it.
  interactionId: string;
  // Set once an identifying step (password) has established who the user is.
  account?: Account;
  loginHint?: string;
  /** The `settings` of the flow's requirement that asks for this step (checked by `Step.settingsProblems`). */
  settings?: Readonly<Record<string, unknown>>;
}

/** A file sent with a step's submission (multipart/form-data), e.g. camera frames or a recording. */
export interface Upload {
  field: string;
  filename?: string;
  contentType: string;
  data: Buffer;
}

/** One submission of a step's page: its text fields and, for steps that accept them, files. */
export interface StepInput {
  fields: Record<string, string>;
  files: Upload[];
}

/** How much a step's submissions may carry; without it a step takes plain forms (16 KB). */
export interface UploadLimits {
  maxBytes: number;
  maxFiles: number;
}

/**
 * A step whose input can come from a separate device (an EEG headset's app, say) instead of the
 * page: the engine shows a one-time code, the device posts its payload to /capture/<code>, and
 * the payload reaches `verify` (or the enrollment's `confirm`) as an upload in `input.files`.
 */
export interface DeviceCaptureSpec {
  /** Largest payload a device may post, in bytes (larger ones are refused with 413). */
  maxBytes: number;
  /**
   * A message for the device when the declared content type (its `Content-Type`, or
   * application/octet-stream when it sends none) is not one the step takes; refused with 415
   * before the body is read. Undefined when the step takes it.
   */
  checkType(contentType: string): string | undefined;
  /** A message for the device when the payload could never be used (not a recording, say); undefined when it may be. */
  check(data: Buffer): string | undefined;
}

/** A match's calibrated evidence, reported for a requirement that fuses several steps' matches. */
export interface MatchEvidence {
  /** The calibration's matcher (`face`, `neural`): each counts once in a fused decision. */
  matcher: string;
  /** The raw score (a distance or a cosine) and its log-likelihood ratio. */
  score: number;
  llr: number;
}

/** How the engine asks a step to verify. */
export interface VerifyMode {
  /** The match decides nothing by itself: report its evidence for the engine to add up (see `Step.fusion`). */
  fused: boolean;
}

export type StepOutcome =
  // `amr`, when given, replaces the step's own `amr` for this sign-in (see `Step.amrIn`).
  | { ok: true; account: Account; evidence?: MatchEvidence; amr?: string[] }
  | { ok: false; status: number; message: string; retryAfterSeconds?: number; keepInput?: Record<string, string> };

export type EnrollOutcome =
  // `amr` as in StepOutcome, for a set-up during sign-in that counts as performing the step.
  | { ok: true; show?: { view: string; data: Record<string, unknown> }; amr?: string[] }
  | { ok: false; status: number; message: string; retryAfterSeconds?: number };

/** Something more a person may do with a credential they have, offered by the account console. */
export interface EnrollmentAction {
  readonly id: string;
  readonly label: string;
  run(account: Account, attempt: Attempt): Promise<EnrollOutcome>;
}

/** An enrollment under way, as its set-up page's caller (a sign-in, the account console) knows it. */
export interface EnrollmentState {
  account: Account;
  /** What `begin` returned, kept server-side by the caller. */
  pending: string;
  /** Opaque, unique to this set-up page of this sign-in or console session: per-attempt challenges are bound to it. */
  contextId: string;
  /** During sign-in: the `settings` of the flow's requirement that asks for this step. */
  settings?: Readonly<Record<string, unknown>>;
}

/** One of several credentials an account holds for a step (see `StepEnrollment.several`). */
export interface CredentialSummary {
  /** Opaque, for the console's URLs. */
  id: string;
  name: string;
  createdAt: number;
  lastUsedAt?: number;
  /** What kind of credential it is, in words ("synced passkey"). */
  kind?: string;
}

/** A step whose account may hold several credentials: each is listed, renamed and removed on its own. */
export interface SeveralCredentials {
  list(account: Account): Promise<CredentialSummary[]>;
  rename(account: Account, id: string, name: string, attempt: Attempt): Promise<EnrollOutcome>;
  /** Deletes one credential for real; false when the account has none with this id. */
  removeOne(account: Account, id: string, attempt: Attempt): Promise<boolean>;
}

/** Setting a step up for an account: started, shown, then confirmed by a first use. */
export interface StepEnrollment {
  /** The set-up page; it posts to `action` and offers `cancelAction`/`cancelLabel` (all given by the caller). */
  readonly view: string;
  /** Starts an enrollment; the result is opaque (sealed if secret, '' when nothing is pending) and kept server-side until confirmed. */
  begin(account: Account): Promise<string>;
  prompt(state: EnrollmentState): Promise<Record<string, unknown>>;
  /** Checks the confirming submission and stores the credential; may return a page to show once. */
  confirm(input: StepInput, state: EnrollmentState, attempt: Attempt): Promise<EnrollOutcome>;
  /** Deletes the account's credential for this step for real (rows gone); false when there was none. */
  remove(account: Account, attempt: Attempt): Promise<boolean>;
  /** Extra actions on an enrolled credential (TOTP: new recovery codes). */
  readonly actions?: readonly EnrollmentAction[];
  /** Present when each set-up adds one more credential instead of the one (passkeys); `remove` then deletes them all. */
  readonly several?: SeveralCredentials;
}

/**
 * One authentication method (after Keycloak's Authenticator SPI and Kratos's
 * one-folder-per-strategy layout). The interaction engine only ever talks to steps
 * through this interface, so adding a method is one folder and one registry line.
 */
export interface Step {
  /** Stable identifier used in flows and URLs. */
  readonly id: string;
  /** RFC 8176 Authentication Method Reference this step contributes to the ID token (unless its outcome gives its own). */
  readonly amr: string;
  /**
   * Present when the step's outcomes report their own amr values (`StepOutcome.amr`): those of a
   * session's amr that this step contributed, [] when it shows no sign of the step. Without it a
   * session's amr shows the step when it holds `amr`.
   */
  amrIn?(sessionAmr: readonly string[]): string[];
  /** What people call it, for pages listing factors ("Authenticator app"). */
  readonly label: string;
  /** Whether the step can tell who the user is by itself (otherwise it needs `state.account`). */
  readonly identifies: boolean;
  /** The page template (under views/) that prompts for this step. */
  readonly view: string;
  /** Present when the step's submissions carry files (multipart/form-data) beyond a plain form. */
  readonly upload?: UploadLimits;
  /** Present when a device may deliver the submission through a one-time capture code. */
  readonly deviceCapture?: DeviceCaptureSpec;
  isEnrolled(account: Account): Promise<boolean>;
  /** Data for the step's page (never secrets); may set up a per-attempt challenge. */
  prompt(state: StepState): Promise<Record<string, unknown>>;
  /**
   * Present when the step's match has a calibrated score, so that a flow can fuse it with other
   * steps' (`{ "fuse": [...], "far": … }`). Verified with `{ fused: true }`, the step makes every
   * check but the match decision (replays, liveness and presentation attacks are still refused)
   * and returns the match's `evidence` whatever its own threshold says; the engine decides on the
   * sum, and counts a fused rejection against the account itself.
   */
  readonly fusion?: { readonly matcher: string };
  /**
   * Present when the step can keep verifying the person after the sign-in from a stream its capture
   * device sends; a flow asks for it with `{ "step": id, "continuous": {...} }` (src/continuous/).
   */
  readonly streams?: StepStreams;
  /** Present when a flow's requirement of this step may carry `settings`: what is wrong with them ([] when nothing). */
  settingsProblems?(settings: Readonly<Record<string, unknown>>): string[];
  /** Checks one submission of the step's form. */
  verify(input: StepInput, state: StepState, attempt: Attempt, mode?: VerifyMode): Promise<StepOutcome>;
  /** Loads what the step needs before its first use (models); called at start when a configured flow can ask for it. */
  warm?(): Promise<void>;
  /** Releases what `warm` (or a first use) started, such as a worker thread; called at shutdown. */
  close?(): Promise<void>;
  /** Forgets what the step keeps only for a while (e.g. a replay memory); called periodically. */
  purgeExpired?(): Promise<unknown>;
  /** Present when the step can be set up during sign-in (if the flow allows it). */
  readonly enrollment?: StepEnrollment;
}
