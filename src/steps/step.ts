import type { Account } from '../accounts/accounts.js';

/** Who is attempting, from where: for throttling and the audit trail. */
export interface Attempt {
  ip: string;
  userAgent?: string;
  clientId?: string;
}

/** What the engine knows about the sign-in so far. */
export interface StepState {
  // Set once an identifying step (password) has established who the user is.
  account?: Account;
  loginHint?: string;
}

export type StepOutcome =
  | { ok: true; account: Account }
  | { ok: false; status: number; message: string; retryAfterSeconds?: number; keepInput?: Record<string, string> };

export type EnrollOutcome =
  | { ok: true; show?: { view: string; data: Record<string, unknown> } }
  | { ok: false; status: number; message: string; retryAfterSeconds?: number };

/** Setting a step up for an account: started, shown, then confirmed by a first use. */
export interface StepEnrollment {
  readonly view: string;
  /** Starts an enrollment; the result is opaque (sealed if secret) and kept server-side until confirmed. */
  begin(account: Account): Promise<string>;
  prompt(account: Account, pending: string): Promise<Record<string, unknown>>;
  /** Checks the confirming submission and stores the credential; may return a page to show once. */
  confirm(input: Record<string, string>, account: Account, pending: string, attempt: Attempt): Promise<EnrollOutcome>;
}

/**
 * One authentication method (after Keycloak's Authenticator SPI and Kratos's
 * one-folder-per-strategy layout). The interaction engine only ever talks to steps
 * through this interface, so adding a method is one folder and one registry line.
 */
export interface Step {
  /** Stable identifier used in flows and URLs. */
  readonly id: string;
  /** RFC 8176 Authentication Method Reference this step contributes to the ID token. */
  readonly amr: string;
  /** Whether the step can tell who the user is by itself (otherwise it needs `state.account`). */
  readonly identifies: boolean;
  /** The page template (under views/) that prompts for this step. */
  readonly view: string;
  isEnrolled(account: Account): Promise<boolean>;
  /** Data for the step's page (never secrets). */
  prompt(state: StepState): Record<string, unknown>;
  /** Checks one submission of the step's form. */
  verify(input: Record<string, string>, state: StepState, attempt: Attempt): Promise<StepOutcome>;
  /** Present when the step can be set up during sign-in (if the flow allows it). */
  readonly enrollment?: StepEnrollment;
}
