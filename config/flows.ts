import { DEFAULT_CONTINUOUS_POLICY, policyProblems } from '../src/continuous/continuous-policy.js';
import { requirementsOf, type Config, type Requirement } from './schema.js';

/** The flows a server runs with: the config file's, plus any added through the admin API. */
export type FlowSet = Pick<Config, 'flows' | 'acr' | 'defaultFlow'>;

/** What the checks need to know about a step; the step registry provides it. */
export interface StepLookup {
  get(id: string): { identifies: boolean; fusion?: unknown; streams?: unknown; settingsProblems?(settings: Readonly<Record<string, unknown>>): string[] } | undefined;
  ids(): string[];
}

export const stepsOf = (r: Requirement) => ('step' in r ? [r.step] : 'anyOf' in r ? r.anyOf : r.fuse);

/**
 * Every problem with a set of flows, one message each. Without `steps` (the config loader,
 * before any step exists) only the references between flows, acr values and the default
 * are checked; with them also unknown steps and a first requirement that cannot tell who
 * the user is. The config loader, the flow policy and the admin API all check through here.
 */
export function flowProblems(set: FlowSet, steps?: StepLookup): string[] {
  const problems = [
    ...(set.flows[set.defaultFlow] ? [] : [`defaultFlow: no flow named ${set.defaultFlow}`]),
    ...Object.entries(set.acr)
      .filter(([, flow]) => !set.flows[flow])
      .map(([acr, flow]) => `acr.${acr}: no flow named ${flow}`),
  ];
  for (const [name, flow] of Object.entries(set.flows)) {
    const requirements = requirementsOf(flow);
    requirements.forEach((r, i) => {
      if ('anyOf' in r) {
        if (new Set(r.anyOf).size !== r.anyOf.length) problems.push(`flows.${name}[${i}]: anyOf lists a step twice`);
        if (r.count > r.anyOf.length) problems.push(`flows.${name}[${i}]: count ${r.count} exceeds its ${r.anyOf.length} steps`);
      }
      if ('fuse' in r) problems.push(...fusionProblems(`flows.${name}[${i}]`, r.fuse, requirements, steps));
      if (!('anyOf' in r) && r.continuous) problems.push(...continuousProblems(`flows.${name}[${i}]`, r, steps));
      if ('step' in r && r.settings) {
        const step = steps?.get(r.step);
        if (step) problems.push(...(step.settingsProblems ? step.settingsProblems(r.settings) : ['takes no settings']).map((p) => `flows.${name}[${i}].settings: ${p}`));
      }
    });
    if (!steps) continue;
    for (const id of new Set(requirements.flatMap(stepsOf))) {
      if (!steps.get(id)) problems.push(`flows.${name}: unknown step ${id} (known: ${steps.ids().join(', ')})`);
    }
    const first = requirements[0];
    if (first && stepsOf(first).some((id) => steps.get(id) && !steps.get(id)!.identifies)) {
      problems.push(`flows.${name}: the first requirement must identify the user (e.g. password)`);
    }
  }
  return problems;
}

/**
 * What makes a monitoring requirement impossible: settings out of range, or no step to stream (a
 * single step must stream; of fused steps exactly one, whose stream then monitors the session).
 */
function continuousProblems(at: string, r: Exclude<Requirement, { anyOf: string[] }>, steps?: StepLookup): string[] {
  const problems = policyProblems({ ...DEFAULT_CONTINUOUS_POLICY, ...r.continuous }).map((p) => `${at}.continuous: ${p}`);
  const ids = stepsOf(r);
  if (!steps || ids.some((id) => !steps.get(id))) return problems;
  const streaming = ids.filter((id) => steps.get(id)!.streams);
  const able = steps.ids().filter((id) => steps.get(id)?.streams).join(', ') || 'none';
  if (streaming.length === 0) problems.push(`${at}: ${ids.join(' + ')} cannot verify continuously (steps that can: ${able})`);
  if (streaming.length > 1) problems.push(`${at}: only one fused step may keep verifying the session (${streaming.join(' and ')} can)`);
  return problems;
}

/**
 * What makes a fused requirement meaningless: a step twice (the same evidence counted double), a
 * step that is also required elsewhere in the flow (its own decision and the fused one would
 * both claim it), or, once the steps are known, a step without a calibrated score to add up.
 */
function fusionProblems(at: string, fuse: readonly string[], all: readonly Requirement[], steps?: StepLookup): string[] {
  const problems: string[] = [];
  if (new Set(fuse).size !== fuse.length) problems.push(`${at}: fuse lists a step twice`);
  for (const id of new Set(fuse)) {
    const elsewhere = all.filter((r) => stepsOf(r).includes(id)).length > 1;
    if (elsewhere) problems.push(`${at}: ${id} is fused here and also required elsewhere in the flow`);
    const step = steps?.get(id);
    if (step && !step.fusion) {
      const fusable = steps!.ids().filter((other) => steps!.get(other)?.fusion);
      problems.push(`${at}: ${id} cannot be fused: it has no calibrated score (steps that can: ${fusable.join(', ') || 'none'})`);
    }
  }
  return problems;
}
