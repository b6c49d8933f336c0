import type { Requirement } from '../../config/schema.js';
import type { InteractionResults } from 'oidc-provider';
import type { MonitorRequest } from '../continuous/session-monitor.js';
import type { MatchEvidence } from '../steps/step.js';

/** How far a sign-in has come, kept server-side in the oidc-provider interaction record. */
export interface Progress {
  flow: string;
  acr?: string;
  accountId?: string;
  // Step ids completed in this interaction, in order.
  done: string[];
  // The amr values a step reported instead of its own (see Step.amrIn), or a stepped-up session showed, by step id.
  amr?: Record<string, string[]>;
  // Requirements added to the flow for this sign-in (by the risk signal, or a re-authentication
  // that must include a second factor).
  extra?: Requirement[];
  // Enrollments under way, by step id (opaque values the step sealed).
  pending?: Record<string, string>;
  // Evidence reported so far by the steps of a fused requirement, by step id, until it is decided.
  scored?: Record<string, MatchEvidence>;
  // Set when a step of a monitoring requirement was done with a device that will keep streaming.
  monitor?: MonitorRequest;
}

/** The steps that have reported evidence towards a fused requirement in this sign-in. */
export const scoredSteps = (progress: Progress): ReadonlySet<string> => new Set(Object.keys(progress.scored ?? {}));

const KEY = 'tessera';

// The login result's key that hands a monitored session's start to the session monitor.
export const MONITOR_RESULT = 'tessera_monitor';

export function readProgress(result: InteractionResults | undefined): Progress | undefined {
  const value = result?.[KEY] as Progress | undefined;
  return value && typeof value.flow === 'string' && Array.isArray(value.done) ? value : undefined;
}

export function withProgress(result: InteractionResults | undefined, progress: Progress): InteractionResults {
  return { ...result, [KEY]: progress };
}
