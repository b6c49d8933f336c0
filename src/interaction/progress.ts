import type { Requirement } from '../../config/schema.js';
import type { InteractionResults } from 'oidc-provider';

/** How far a sign-in has come, kept server-side in the oidc-provider interaction record. */
export interface Progress {
  flow: string;
  acr?: string;
  accountId?: string;
  // Step ids completed in this interaction, in order.
  done: string[];
  // Requirements added to the flow for this sign-in (by the risk signal, or a re-authentication
  // that must include a second factor).
  extra?: Requirement[];
  // Enrollments under way, by step id (opaque values the step sealed).
  pending?: Record<string, string>;
}

const KEY = 'tessera';

export function readProgress(result: InteractionResults | undefined): Progress | undefined {
  const value = result?.[KEY] as Progress | undefined;
  return value && typeof value.flow === 'string' && Array.isArray(value.done) ? value : undefined;
}

export function withProgress(result: InteractionResults | undefined, progress: Progress): InteractionResults {
  return { ...result, [KEY]: progress };
}
